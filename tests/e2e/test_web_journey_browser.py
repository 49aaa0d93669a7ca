"""A practice manager's first session, end to end in headless Chromium, on the demo practice
after two lived days: sign in, import patients, record one patient's written consent, fix an
agent's opening, publish a workflow from a template, place a test call, open a call from the
history, read why a patient is not called, and revoke the key in use (which signs out).

Everything after setting up the demo goes through the pages, found by role and accessible
name as a screen reader would. A full-page screenshot after each step goes to
`test-artifacts/journey-NN-<step>.png` (git-ignored).
"""

from __future__ import annotations

import re
from typing import Final

from playwright.sync_api import Page, expect

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.services.consent import ATTESTATION
from ringfence.services.demo_history import set_up_demo_with_history
from tests.e2e.browser import ARTIFACTS

CSV: Final = (
    b"First name,Last name,Phone,Email\n"
    b"Wren,Halloway,(315) 555-0181,wren@example.com\n"
    b"Otis,Marchetti,(315) 555-0182,\n"
    b"Juno,Abernathy,(315) 555-0183,juno@example.com\n"
)
CLINICAL_OPENING: Final = (
    "Hi, this is the AI assistant of Glow Aesthetics. I'm calling about the swelling after your "
    "filler appointment."
)
GOOD_OPENING: Final = (
    "Hi, this is the AI assistant calling from Glow Aesthetics. I'm calling to confirm your "
    "upcoming appointment with us."
)


def _shot(page: Page, number: int, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"journey-{number:02d}-{step}.png", full_page=True)


def _menu(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name=name, exact=True
    ).click()


def test_a_practice_managers_first_session(
    page: Page, live_server: str, container: Container, clock: VirtualClock
) -> None:
    demo, _history = set_up_demo_with_history(container.session_factory, now=clock.now(), days=2)
    page.set_default_timeout(15_000)

    # 1. Sign in with the demo key.
    page.goto(f"{live_server}/app")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("API key").fill(demo.api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    _shot(page, 1, "signed-in")

    # 2. Patients → Import contacts: three new patients from a CSV.
    _menu(page, "Import contacts")
    expect(page.get_by_role("heading", name="Import contacts", level=1)).to_be_visible()
    page.get_by_label("CSV file").set_input_files(
        {"name": "new-patients.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    page.get_by_label("Location").select_option(label="Glow Aesthetics – Manhattan")
    page.get_by_role("button", name="Upload and check the columns").click()
    expect(page.get_by_role("heading", name="Check the columns", level=1)).to_be_visible()
    expect(page.get_by_label("Ringfence field for column “Phone”")).to_have_value("phone")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import report", level=1)).to_be_visible()
    expect(page.get_by_text("Imported: 3 new, 0 merged, 0 skipped.")).to_be_visible()
    _shot(page, 2, "imported")

    # 3. Record written consent for one of them, on her contact page.
    _menu(page, "Contacts")
    page.get_by_role("searchbox").fill("Halloway")
    page.get_by_role("searchbox").press("Enter")
    wren_row = page.get_by_role("row", name=re.compile(r"Wren Halloway"))
    expect(wren_row.get_by_role("cell", name="No consent on file")).to_be_visible()
    wren_row.get_by_role("link", name="Wren Halloway").click()
    expect(page.get_by_role("heading", name="Wren Halloway", level=1)).to_be_visible()
    expect(page.locator("#calling-status")).to_have_text("No consent on file")
    page.get_by_text("Record written consent", exact=True).click()  # the disclosure
    page.get_by_label("Who checked the signed consent").fill("Priya, practice manager")
    page.get_by_label("Where the signed consent is kept").fill(
        "Signed paper consent form (v2), scanned into the patient chart, signed 3 Dec 2026"
    )
    page.get_by_role("button", name="Save written consent").click()
    expect(page.get_by_role("alert")).to_contain_text("Confirmation: tick the box")
    expect(page.get_by_label("Who checked the signed consent")).to_have_value(
        "Priya, practice manager"
    )
    page.get_by_label(ATTESTATION).check()
    page.get_by_role("button", name="Save written consent").click()
    expect(page.get_by_text("Written consent for calls to (315) 555-0181 recorded")).to_be_visible()
    expect(page.locator("#calling-status")).to_have_text("Can be called")
    history = page.get_by_role("table", name="Consent history for this number")
    expect(
        history.get_by_role("row", name=re.compile("Written consent confirmed by staff"))
    ).to_be_visible()
    _shot(page, 3, "written-consent")

    # 4. AI Agents → Voice AI: edit an agent's opening for appointment confirmations. One with
    # clinical detail is refused, with the reason next to the field; a clean one is saved.
    _menu(page, "Voice AI")
    page.get_by_role("link", name="Edit New York front desk").click()
    opening = page.get_by_label("Opening for appointment confirmation calls")
    opening.fill(CLINICAL_OPENING)
    page.get_by_role("button", name="Save changes").click()
    expect(opening).to_have_attribute("aria-invalid", "true")
    expect(opening).to_have_accessible_description(re.compile("must not mention clinical details"))
    expect(opening).to_have_value(CLINICAL_OPENING)
    _shot(page, 4, "opening-refused")
    opening.fill(GOOD_OPENING)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Saved “New York front desk”")
    openings = page.get_by_role("table", name="Outbound openings").first
    expect(
        openings.get_by_role("row", name=re.compile("^Appointment confirmation its own opening"))
    ).to_contain_text("passes")
    _shot(page, 5, "opening-saved")

    # 5. Automation → Workflows: a workflow from a template, published.
    _menu(page, "Workflows")
    page.get_by_role("link", name="New workflow").first.click()
    expect(page.get_by_role("heading", name="New workflow", level=1)).to_be_visible()
    template = "Consult follow-up (2 days after a consult without booking)"
    page.get_by_role("radio", name=template).check()
    page.get_by_role("combobox", name=re.compile("^AI Agent")).select_option(
        label="New York front desk"
    )
    page.get_by_role("combobox", name=re.compile("^From Phone Number")).select_option(index=1)
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", name=template, level=1)).to_be_visible()
    page.get_by_role("switch", name="Published").click()
    published = page.get_by_text(re.compile(r"is published \(version 1\)"))
    # A large audience asks for a confirmation first (test_web_workflows.py); this one is small.
    confirming = page.get_by_role("heading", name=re.compile("^Publish “"), level=1)
    expect(published.or_(confirming)).to_be_visible()
    if confirming.is_visible():
        page.get_by_role("button", name=re.compile("^Publish")).click()
    expect(published).to_be_visible()
    expect(page.get_by_role("switch", name="Published")).to_have_attribute("aria-checked", "true")
    _shot(page, 6, "workflow-published")

    # 6. AI Agents → Test console: a test call for a patient; the agent speaks first.
    _menu(page, "Test console")
    page.get_by_label("What the call is for").select_option(label="Appointment confirmation")
    page.get_by_label("Play this patient").select_option(index=1)
    page.get_by_role("button", name="Start test call").click()
    expect(page.get_by_role("heading", name=re.compile("^Test call"), level=1)).to_be_visible()
    first = page.get_by_role("region", name="Conversation").get_by_role("listitem").first
    expect(first).to_contain_text("Agent:")
    expect(first).to_contain_text(
        "calling to confirm your upcoming appointment with us"
    )  # step 4's
    _shot(page, 7, "test-call")

    # 7. Dashboards & Logs → Outbound: a call from the lived history, with its transcript.
    _menu(page, "Outbound")
    # The View link opens the drawer once htmx has processed the page (deferred scripts, run
    # by the load event); clicked sooner it opens the call's full page instead (seen once in
    # a CI run: no dialog).
    page.wait_for_url(re.compile(r"/dashboards/outbound"), wait_until="load")
    calls = page.get_by_role("region", name="Call log")
    connected = calls.get_by_role("row").filter(has=page.get_by_role("cell", name="Connected"))
    connected.first.get_by_role("link", name="View").click()
    drawer = page.get_by_role("dialog")
    expect(drawer).to_be_visible()
    expect(drawer.get_by_role("heading", name="Transcript")).to_be_visible()
    expect(drawer.get_by_role("listitem").first).to_contain_text("Agent")
    expect(drawer.get_by_role("listitem").first).to_contain_text("Glow Aesthetics")
    _shot(page, 8, "call-transcript")

    # 8. A patient who was not called: found by the list's status column, and why.
    _menu(page, "Contacts")
    opted_out = page.get_by_role("row").filter(has=page.get_by_role("cell", name="Opted out"))
    opted_out.first.get_by_role("link").first.click()
    expect(page.locator("#calling-status")).to_have_text("Opted out")
    why = page.get_by_role("region", name="Can we call this patient?")
    expect(why).to_contain_text("No. A call for appointment confirmation would be stopped")
    expect(
        why.get_by_role("listitem").filter(has_text="asked the practice to stop calling")
    ).to_be_visible()
    expect(page.get_by_role("region", name="Calls")).to_contain_text("No calls yet.")
    _shot(page, 9, "not-called-why")

    # 9. Settings → API keys & sessions: revoking the key in use signs this browser out.
    _menu(page, "API keys & sessions")
    page.get_by_role("button", name="Revoke demo").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    _shot(page, 10, "signed-out")
