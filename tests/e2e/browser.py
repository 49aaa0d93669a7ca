"""Real-browser testing: the app served by uvicorn in a thread, driven by headless Chromium.

Debian's Chromium (`/usr/bin/chromium`, installed by scripts/test.sh) is used through
Playwright's `executable_path`; `playwright install` (which downloads browsers) is never run.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, expect

# Where the browser tests leave their screenshots (git-ignored): test-artifacts/ at the
# repository root, or RINGFENCE_TEST_ARTIFACTS (scripts/test.sh gives the PostgreSQL pass its
# own, as it runs beside the SQLite pass and takes the same pictures).
ARTIFACTS: Final = Path(
    os.environ.get("RINGFENCE_TEST_ARTIFACTS")
    or Path(__file__).resolve().parents[2] / "test-artifacts"
)

CHROMIUM: Final = Path("/usr/bin/chromium")
# No sandbox (tests run as root in containers), and nothing that reaches out to the network.
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class _ThreadServer(uvicorn.Server):
    """A uvicorn server that says when it is listening (instead of being polled)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.listening.set()  # also on failure, so the waiting test fails at once


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Serve `app` on a free 127.0.0.1 port; yields its base URL, stops it afterwards."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))  # the port is ours from here: no race with other tests
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        loop="asyncio",
        http="h11",
        ws="none",  # the pages use no websockets, and this skips importing that library
    )
    server = _ThreadServer(config)
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [listener]},
        name=f"uvicorn-{port}",
        daemon=True,
    )
    thread.start()
    try:
        if not server.listening.wait(timeout=30) or not server.started:
            raise RuntimeError("the test server did not start; see the log above")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def launch_chromium(playwright: Playwright) -> Browser:
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: run scripts/test.sh (which installs it) or "
            "`apt-get install -y --no-install-recommends chromium`"
        )
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
    )


def log_in(page: Page, base_url: str, api_key: str) -> None:
    """Sign in through the real form, as a member of staff would."""
    page.goto(f"{base_url}/login")
    page.get_by_label("API key").fill(api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
