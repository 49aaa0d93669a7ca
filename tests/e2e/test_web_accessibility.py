"""Every page staff, patients and share-link holders open passes axe-core (WCAG 2.1 A and AA),
in real Chromium, on a practice with a lived history (the demo's, two days of it).

The staff pages are found, not listed: every menu entry (`navigation.MENU`, so a new page is
checked the day it gets its link), then the first record each list page links to (a contact,
a workflow, a form, a call, a phone number, an agent's edit page), then the pages nobody
reaches from the menu (sign-in, the root page, a contact's consent evidence), the pages a step
leads to (an import's mapping and row report, a test call, a workflow's publish confirmation),
pages refusing a form with its errors, and the outside views (the public consent form, a
shared dashboard and a call opened from it). A violation
fails with the rule, its impact, the page and the elements, as axe reports them. A full-page
screenshot of each is left in `test-artifacts/pages/` (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from ringfence.adapters.db.orm import Account, ConsentRecord, PhoneNumber
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.entrypoints.web.navigation import MENU
from ringfence.services.demo import DEMO_SLUG
from ringfence.services.demo_history import set_up_demo_with_history
from tests.dashboard_calls import answer
from tests.e2e.browser import ARTIFACTS, log_in
from tests.integration.dispatch.practice import Practice

SCREENSHOTS: Final = ARTIFACTS / "pages"
# The WCAG 2.1 A and AA rules: what accessibility law and procurement ask of a web app.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AGENT_EDIT: Final = r"^/app/voice-ai/agents/\d+/edit$"
# The first record each list page links to: (list page, a link on it to follow).
DETAIL_LINKS = (
    ("/app/contacts", r"^/app/contacts/\d+$"),
    ("/app/workflows", r"^/app/workflows/\d+$"),
    ("/app/forms", r"^/app/forms/\d+$"),
    ("/app/voice-ai/dashboards/outbound", r"^/app/voice-ai/dashboards/outbound/calls/\d+$"),
    ("/app/voice-ai/dashboards/inbound", r"^/app/voice-ai/dashboards/inbound/calls/\d+$"),
    ("/app/phone-numbers", r"^/app/phone-numbers/\d+/edit$"),
    ("/app/phone-numbers", r"^/app/phone-numbers/\d+/remove$"),
    ("/app/voice-ai", AGENT_EDIT),
)
# Reached from a button or a notice that not every state shows.
FIXED_PAGES = ("/app/voice-ai/outbound", "/app/forms/new", "/app/workflows/new", "/")
# Pages shown after a step, not at an address of their own (or only with a token).
STEP_PAGES = (
    "agent edit, opening refused",
    "new form, fields missing",
    "test console call",
    "import mapping",
    "import report",
    "workflow publish confirmation",
)
# More than `manage.CONFIRM_AUDIENCE_ABOVE` consented contacts at one location, so publishing a
# workflow there asks to confirm its audience first (the demo has 150 a location, not all
# consented).
AUDIENCE: Final = 201
# One row the import skips, so the row report shows its problems table too.
IMPORT_CSV: Final = b"Phone,First name,Last name\n(646) 555-1001,Ida,Mora\n555-01,Bad,Number\n"
CLINICAL_OPENING: Final = (
    "Hi, this is the AI assistant of {practice}. I'm calling about the swelling after your "
    "filler appointment."
)


@dataclass(frozen=True)
class Violation:
    path: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.path}: {self.rule} ({self.impact}) {self.help} at {', '.join(self.targets)}"


def _violations(page: Page, path: str) -> list[Violation]:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [
        Violation(
            path=path,
            rule=found["id"],
            impact=str(found.get("impact")),
            help=found["help"],
            targets=tuple(str(node["target"]) for node in found["nodes"][:5]),
        )
        for found in results.response["violations"]
    ]


def _screenshot(page: Page, path: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:80] or "root"
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def _first_link(page: Page, pattern: str) -> str | None:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    return next((href for href in hrefs if re.match(pattern, href.split("?")[0])), None)


@pytest.fixture
def demo_key(container: Container, clock: VirtualClock) -> str:
    result, _ = set_up_demo_with_history(container.session_factory, now=clock.now(), days=2)
    # One patient calls the practice back, so the Inbound tab has a call log and a drawer.
    with container.uow() as uow:
        line = uow.session.scalars(
            select(PhoneNumber.e164)
            .join(Account, Account.id == PhoneNumber.account_id)
            .where(Account.slug == DEMO_SLUG)
            .order_by(PhoneNumber.id)
            .limit(1)
        ).one()
    answer(container, "+12125550177", "Can I move my appointment to Friday?", line=line)
    return result.api_key


def _consented_contact(container: Container) -> int:
    with container.uow() as uow:
        return uow.session.scalars(
            select(ConsentRecord.contact_id)
            .join(Account, Account.id == ConsentRecord.account_id)
            .where(Account.slug == DEMO_SLUG)
            .order_by(ConsentRecord.id)
            .limit(1)
        ).one()


def _demo_account(container: Container) -> int:
    with container.uow() as uow:
        return uow.session.scalars(select(Account.id).where(Account.slug == DEMO_SLUG)).one()


def test_every_page_passes_axe(
    page: Page, browser: Browser, live_server: str, demo_key: str, container: Container
) -> None:
    found: list[Violation] = []
    checked: list[str] = []

    def check(path: str) -> None:
        response = page.goto(f"{live_server}{path}")
        assert response is not None, path
        assert response.ok, f"{path}: {response.status}"
        page.wait_for_load_state("networkidle")
        checked.append(path)
        found.extend(_violations(page, path))
        _screenshot(page, path)

    def here(name: str) -> None:
        """The page as it stands after a step (a form sent, a button pressed)."""
        page.wait_for_load_state("networkidle")
        checked.append(name)
        found.extend(_violations(page, name))
        _screenshot(page, name)

    page.goto(f"{live_server}/login")
    found.extend(_violations(page, "/login"))
    _screenshot(page, "/login")
    log_in(page, live_server, demo_key)

    for section in MENU:
        for link in section.links:
            check(link.href)
    details: dict[str, str] = {}
    for listing, pattern in DETAIL_LINKS:
        page.goto(f"{live_server}{listing}")
        href = _first_link(page, pattern)
        assert href is not None, f"{listing} links to nothing like {pattern}"
        details[pattern] = href
        check(href)

    for path in FIXED_PAGES:
        check(path)

    check(f"/app/contacts/{_consented_contact(container)}/consent-evidence")

    # Forms refused, re-rendered with their errors next to the fields.
    page.goto(f"{live_server}{details[AGENT_EDIT]}")
    opening = page.get_by_label(re.compile("^Opening for")).first
    opening.fill(CLINICAL_OPENING)
    page.get_by_role("button", name="Save changes").click()
    expect(opening).to_have_attribute("aria-invalid", "true")
    here("agent edit, opening refused")
    page.goto(f"{live_server}/app/forms/new")
    page.get_by_role("button", name="Create form").click()
    expect(page.get_by_role("alert")).to_contain_text("Not created")
    here("new form, fields missing")

    page.goto(f"{live_server}/app/voice-ai/console")
    page.get_by_label("Play this patient").select_option(index=1)
    page.get_by_role("button", name="Start test call").click()
    expect(page.get_by_role("heading", name=re.compile("^Test call"), level=1)).to_be_visible()
    here("test console call")

    page.goto(f"{live_server}/app/contacts/import")
    page.get_by_label("CSV file").set_input_files(
        {"name": "patients.csv", "mimeType": "text/csv", "buffer": IMPORT_CSV}
    )
    page.get_by_label("Location").select_option(index=1)
    page.get_by_role("button", name="Upload and check the columns").click()
    expect(page.get_by_role("heading", name="Check the columns", level=1)).to_be_visible()
    here("import mapping")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import report", level=1)).to_be_visible()
    here("import report")

    # Enough consented patients where a new workflow starts that publishing it asks first.
    page.goto(f"{live_server}/app/workflows/new")
    location_id = int(page.locator("input[name=location_id]").input_value())
    practice = Practice(container, account_id=_demo_account(container), location_id=location_id)
    for n in range(AUDIENCE):
        practice.add_contact(f"+1646555{2000 + n:04d}")
    page.get_by_role("radio", name=re.compile("^Lead reactivation")).check()
    page.get_by_role("combobox", name=re.compile("^AI Agent")).select_option(index=1)
    page.get_by_role("combobox", name=re.compile("^From Phone Number")).select_option(index=1)
    page.get_by_role("button", name="Create draft").click()
    page.locator(".page-head").get_by_role("switch", name="Published").click()
    expect(page.get_by_role("heading", name=re.compile("^Publish “"), level=1)).to_be_visible()
    here("workflow publish confirmation")

    # A patient's view: the public consent form, signed out.
    page.goto(f"{live_server}/app/forms")
    public = page.locator("input[readonly]").first.input_value()
    # A share-link holder's view.
    page.goto(f"{live_server}/app/voice-ai/dashboards/outbound/shares")
    page.get_by_label("Label").fill("Owners' review")
    # With PHI: the view then links each call to its drawer (transcript, recording).
    page.get_by_label(re.compile("Include contact names")).check()
    page.get_by_role("button", name="Create link").click()
    shared = page.locator("#share-links tbody tr").first.get_by_label("Share URL").input_value()
    anonymous = browser.new_context().new_page()
    # Named, not by address: a share link's token differs on every run.
    for name, url in (("public form", public), ("shared dashboard", shared)):
        anonymous.goto(url)
        expect(anonymous.locator("main")).to_be_visible()
        found.extend(_violations(anonymous, url.removeprefix(live_server)))
        _screenshot(anonymous, name)
    # A call opened from the shared view: the drawer over the dashboard.
    anonymous.locator("a.open-drawer").first.click()
    expect(anonymous.locator("#drawer [role=dialog]")).to_be_visible()
    found.extend(_violations(anonymous, "shared call drawer"))
    _screenshot(anonymous, "shared call drawer")
    anonymous.context.close()

    menu_pages = sum(len(s.links) for s in MENU)
    evidence = 1
    assert len(checked) == (
        menu_pages + len(DETAIL_LINKS) + len(FIXED_PAGES) + evidence + len(STEP_PAGES)
    )
    assert set(STEP_PAGES) <= set(checked)
    assert found == [], "\n" + "\n".join(str(v) for v in found)


def test_the_checker_can_fail(page: Page) -> None:
    """The same run on a page with the faults it must catch: a passing page above means
    something, not an engine that never loaded."""
    page.set_content(
        '<html><body><main><img src="x.png"><input type="text">'
        '<p style="color:#ccc;background:#fff">faint</p></main></body></html>'
    )
    rules = {violation.rule for violation in _violations(page, "planted")}
    assert {"image-alt", "label", "color-contrast", "html-has-lang"} <= rules
