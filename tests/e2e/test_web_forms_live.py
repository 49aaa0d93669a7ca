"""The consent scanner's findings while a form's text is being edited: the fragment the form
page's box asks for (htmx, on each pause in typing), the page it falls back to without htmx,
and the refusals (another account's form, no CSRF token). Nothing is ever saved by it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from ringfence.adapters.db.orm import Form
from ringfence.bootstrap import Container
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT
from tests.e2e.test_web_forms import AI_WORDING, NO_AI_NO_NAME, _api_form, _row, _textarea
from tests.e2e.web_client import csrf_token, sign_in

HTMX = {"HX-Request": "true"}


def _status(page: str, element: str) -> str:
    found = re.search(rf'<tr id="finding-{element}" data-status="([a-z]+)"', page)
    assert found is not None, f"no finding for {element}"
    return found.group(1)


def _saved(container: Container, form_id: int) -> tuple[int, str]:
    with container.uow() as uow:
        form = uow.session.get(Form, form_id)
        assert form is not None
        return form.current_version, form.consent_text


def test_the_box_asks_for_the_findings_of_what_is_typed(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    form_id = _api_form(client, tenant, "Book a consult", NO_AI_NO_NAME)
    sign_in(client, tenant)
    page = client.get(f"/app/forms/{form_id}")
    assert f'hx-post="/app/forms/{form_id}/findings"' in page.text
    assert _status(page.text, "artificial_voice") == "missing"
    token = csrf_token(page)

    draft = f"{NO_AI_NO_NAME} {AI_WORDING}"
    live = client.post(
        f"/app/forms/{form_id}/findings",
        data={"name": "Book a consult", "consent_text": draft},
        headers={**HTMX, "X-CSRF-Token": token},
    )
    assert live.status_code == 200
    assert "<html" not in live.text  # the findings alone, for #findings
    assert "What the check finds in the text above (not saved yet)" in live.text
    assert _status(live.text, "artificial_voice") == "present"
    assert _status(live.text, "business_name") == "present"  # the AI wording names the practice
    assert "Every required part is there." in live.text
    assert 'id="findings-live" hx-swap-oob="innerHTML">Valid for AI voice calls.' in live.text
    # The buttons still post the box (with what is typed) to "use suggested wording".
    assert f'formaction="/app/forms/{form_id}/suggestion"' in live.text

    weak = client.post(
        f"/app/forms/{form_id}/findings",
        data={"consent_text": "You may call me."},
        headers={**HTMX, "X-CSRF-Token": token},
    )
    assert _status(weak.text, "artificial_voice") == "missing"
    assert "Use suggested wording: Says calls may use an AI or prerecorded voice" in weak.text
    assert re.search(r"Not valid for AI voice calls: \d+ required parts missing", weak.text)
    assert _saved(container, form_id) == (1, NO_AI_NO_NAME)  # nothing saved


def test_without_htmx_the_page_comes_back_with_the_draft_and_its_findings(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    form_id = _api_form(client, tenant, "Book a consult", NO_AI_NO_NAME)
    sign_in(client, tenant)
    token = csrf_token(client.get(f"/app/forms/{form_id}"))
    draft = f"{NO_AI_NO_NAME} {AI_WORDING}"
    page = client.post(
        f"/app/forms/{form_id}/findings",
        data={"csrf_token": token, "name": "Book a consult", "consent_text": draft},
    )
    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    assert _textarea(page.text) == draft
    assert "Present" in _row(page.text, "finding-artificial_voice")
    assert 'findings-live" hx-swap-oob' not in page.text
    assert _saved(container, form_id) == (1, NO_AI_NO_NAME)


def test_another_accounts_form_and_a_post_without_the_token_are_refused(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    rival = _api_form(client, other_tenant, "Rival intake", GOOD_TEXT)
    mine = _api_form(client, tenant, "Book a consult", NO_AI_NO_NAME)
    sign_in(client, tenant)
    token = csrf_token(client.get("/app/forms"))
    refused = client.post(
        f"/app/forms/{rival}/findings",
        data={"consent_text": NO_AI_NO_NAME},
        headers={**HTMX, "X-CSRF-Token": token},
    )
    assert refused.status_code == 404
    assert "finding-" not in refused.text
    assert _saved(container, rival) == (1, GOOD_TEXT)
    no_token = client.post(
        f"/app/forms/{mine}/findings", data={"consent_text": AI_WORDING}, headers=HTMX
    )
    assert no_token.status_code == 403
    assert "finding-" not in no_token.text
