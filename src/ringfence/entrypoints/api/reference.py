"""The interactive API reference at /docs: Swagger UI vendored with the web pages' other
libraries (`static/vendor/swagger-ui-dist/`, from `scripts/vendor-frontend.sh`), so it works on
a self-hosted server with no internet access (FastAPI's default page loads it from a CDN, and
is blank offline)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

# Served by the web pages' /static mount (entrypoints/web/site.py), which every app has.
ASSETS = "/static/vendor/swagger-ui-dist"


def install_api_reference(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    async def api_reference() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "",
            title=f"{app.title} API reference",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url="data:,",  # none: the default one is fetched from the internet
        )
