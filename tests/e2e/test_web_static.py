"""Static files: the stylesheet and every vendored library, served by the app itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ringfence.entrypoints.web.pages import STATIC_DIR

VENDOR = STATIC_DIR / "vendor"
_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".md": "text/markdown",
    ".txt": "text/plain",
}


def _vendored() -> list[Path]:
    return sorted(p for p in VENDOR.rglob("*") if p.is_file())


def test_each_library_is_vendored_with_its_licence() -> None:
    files = {p.relative_to(VENDOR).as_posix() for p in _vendored()}
    assert "htmx.org/htmx.min.js" in files
    assert "chart.js/chart.umd.min.js" in files
    assert {"swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-dist/swagger-ui.css"} <= files
    for library in ("htmx.org", "chart.js", "swagger-ui-dist"):
        assert f"{library}/LICENSE.txt" in files
        assert f"`{library}`" in (VENDOR / "README.md").read_text()


@pytest.mark.parametrize(
    "path", [p.relative_to(STATIC_DIR).as_posix() for p in [STATIC_DIR / "app.css", *_vendored()]]
)
def test_static_files_are_served_with_their_content_type(client: TestClient, path: str) -> None:
    response = client.get(f"/static/{path}")
    assert response.status_code == 200
    expected = _TYPES[Path(path).suffix]
    assert response.headers["content-type"].split(";")[0] == expected
    assert response.content == (STATIC_DIR / path).read_bytes()


def test_pages_load_htmx_from_this_server(client: TestClient) -> None:
    page = client.get("/login")
    assert '<script src="/static/vendor/htmx.org/htmx.min.js?v=' in page.text
    assert "https://" not in page.text.split("</head>")[0]  # no CDN


def test_unknown_static_paths_are_404(client: TestClient) -> None:
    assert client.get("/static/vendor/nothing.js").status_code == 404
    assert client.get("/static/../pages.py").status_code == 404
