"""The CLI and a real `ringfence serve` process, as the README's quick start uses them."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ringfence.adapters.db.engine import make_engine
from ringfence.adapters.db.migrate import revisions
from ringfence.bootstrap import Container
from ringfence.entrypoints.cli import app


@pytest.fixture
def cli_env(container: Container, database_url: str) -> Iterator[dict[str, str]]:
    # `container` wiped the database; the CLI opens its own engine on the same URL.
    env = {"RINGFENCE_DATABASE_URL": database_url}
    return env


def _run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_account_and_key_creation(cli_env: dict[str, str]) -> None:
    _run(cli_env, "db", "upgrade")
    account = json.loads(_run(cli_env, "account", "create", "--name", "Skin Studio"))
    key = json.loads(_run(cli_env, "apikey", "create", "--account", str(account["account_id"])))
    assert key["api_key"].startswith("rf_")
    missing = CliRunner().invoke(app, ["apikey", "create", "--account", "999999"], env=cli_env)
    assert missing.exit_code == 1
    assert "does not exist" in missing.output


def test_demo_seeds_once_and_serves_contacts_over_http(cli_env: dict[str, str]) -> None:
    # Two lived days keep the test short (tests/integration/test_demo_history.py has a week).
    first = _run(cli_env, "demo", "--no-serve", "--history-days", "2")
    second = _run(cli_env, "demo", "--no-serve", "--history-days", "2")
    assert "Contacts" in first
    assert "2 days:" in first
    assert "calls placed" in first
    assert "calls answered" in first  # patients rang the practice too
    assert "History" not in second  # lived once
    # The 300 seeded patients, and a record for each stranger who rang during the lived days.
    [contacts] = re.findall(r"Contacts\s*│?\s*(\d+)", second)
    assert int(contacts) >= 300
    key = next(line.split()[-1] for line in second.splitlines() if line.startswith("API key:"))

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The lived days left transcripts; synthesizing their recordings in the background (seconds
    # of CPU each) is the renderer's business (tests/integration/test_recordings.py), not this
    # test's, and on a busy machine it would starve the requests below of their 5 s.
    env = {**os.environ, **cli_env, "RINGFENCE_RENDER_RECORDINGS": "false"}
    server = subprocess.Popen(
        [sys.executable, "-m", "ringfence", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
        assert httpx.get(f"{base}/api/v1/openapi.json", timeout=5).json()["info"]["title"]
        response = httpx.get(
            f"{base}/api/v1/contacts?limit=200",
            headers={"Authorization": f"Bearer {key}"},
            timeout=5,
        )
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) == 200
        assert page["next_cursor"]
        assert all(c["phone"] is None or c["phone"].startswith("+1") for c in page["items"])
        # Searches by a patient's name and number: the access log keeps the path only.
        name = page["items"][0]["first_name"]
        phones = [c["phone"] for c in page["items"] if c["phone"]][:5]
        searched = httpx.get(
            f"{base}/api/v1/contacts",
            params={"q": name, "phone": phones[0]},
            headers={"Authorization": f"Bearer {key}"},
            timeout=5,
        )
        assert searched.status_code == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    log = output.decode(errors="replace")
    assert "GET /api/v1/contacts HTTP/1.1" in log  # the access log is on
    assert f"q={name}" not in log
    for phone in phones:
        assert phone not in log
        assert phone[2:] not in log


def test_db_downgrade_goes_back_a_revision_and_names_a_bad_one(tmp_path: Path) -> None:
    """Before rolling the code back, the schema goes back (docs/operations.md, migration 0024)."""
    env = {"RINGFENCE_DATABASE_URL": f"sqlite:///{tmp_path / 'back.db'}"}
    _run(env, "db", "upgrade")
    assert "revision 0023" in _run(env, "db", "downgrade", "0023")
    engine = make_engine(env["RINGFENCE_DATABASE_URL"])
    try:
        current, heads = revisions(engine)
    finally:
        engine.dispose()
    assert current == {"0023"} != heads
    bad = CliRunner().invoke(app, ["db", "downgrade", "nope"], env=env)
    assert bad.exit_code == 2
    assert "nope" in bad.output
    _run(env, "db", "upgrade")  # and forward again
