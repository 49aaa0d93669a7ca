"""Browser fixtures: the real app on a live port, and a fresh headless Chromium page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from ringfence.bootstrap import Container
from ringfence.entrypoints.asgi import create_app
from tests.conftest import Tenant
from tests.e2e.browser import launch_chromium, log_in, serve_in_thread

# How long a page may take to load or an element to show. Generous: the SQLite and PostgreSQL
# passes run side by side (scripts/test.sh), each with a browser, and on a loaded 2-core machine
# a page once took more than 10 s to load; a passing test waits no longer for it.
BROWSER_TIMEOUT_MS = 30_000


@pytest.fixture
def live_server(container: Container) -> Iterator[str]:
    """The base URL of the whole app served by uvicorn against the test database."""
    with serve_in_thread(create_app(container)) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context: no cookies carried over from another test."""
    context = browser.new_context()
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def staff(page: Page, live_server: str, tenant: Tenant) -> Page:
    """The page, signed in as the tenant's staff through the real login form."""
    log_in(page, live_server, tenant.api_key)
    return page


@pytest.fixture
def anonymous(browser: Browser) -> Iterator[Page]:
    """A page in a second, fresh browser context: nobody is signed in there."""
    context = browser.new_context()
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    yield context.new_page()
    context.close()
