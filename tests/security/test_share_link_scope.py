"""A share link opens exactly the calls its own list shows (finding 1, High).

Before: the shared drawer and recording routes checked only the link's location and call type,
and took sequential call ids, so a link made for one day's connected calls of one workflow and
caller ID opened the transcript and recording of any call at the location, live ones included.
Now every shared route applies the link's whole filter set (the list's own query) and names
calls by references made for that link only. This test walks every call id in the database,
with a *valid* reference for each (as if an attacker could forge them), and raw ids too."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.dashboard import DashboardShareLink
from ringfence.adapters.db.orm import Location
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallOutcome, CallType
from ringfence.secret_key import secret_key
from ringfence.services.dashboard.share_refs import call_ref, job_of_ref
from tests.conftest import Tenant
from tests.dashboard_calls import CallBook
from tests.e2e.web_client import make_share_link, shared_call_refs, sign_in
from tests.factories import add_voice_agent

TODAY = date(2026, 11, 26)
SHOWN = "Shown Patient"


def _link(client: TestClient, tenant: Tenant, filters: str) -> str:
    return make_share_link(
        client, tenant.location_id, filters, label="one day, one workflow, one number"
    )


def _second_location(container: Container, tenant: Tenant) -> Tenant:
    with container.uow() as uow:
        now = uow.clock.now()
        row = Location(
            account_id=tenant.account_id,
            name="Uptown",
            time_zone="America/New_York",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        location_id = row.id
        uow.commit()
    return replace(tenant, location_id=location_id)


def test_a_share_link_opens_only_the_calls_its_list_shows(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    said = [{"speaker": "callee", "text": "My filler hurts.", "start": 1.0, "end": 2.0}]

    def call(outcome: CallOutcome | None, **changes: object) -> int:
        fields: dict[str, object] = {
            "day": TODAY,
            "duration": 30,
            "turns": said,
            "recording": True,
            "name": "Hidden Patient",
        } | changes
        return book.call(outcome, **fields)  # type: ignore[arg-type]

    shown = call(CallOutcome.CONNECTED, name=SHOWN)
    hidden = {
        "another day": call(CallOutcome.CONNECTED, day=TODAY - timedelta(days=3)),
        "another status": call(CallOutcome.NO_ANSWER),
        "a live call in progress": call(None),
        "another workflow": call(CallOutcome.CONNECTED, workflow="No-show recovery"),
        "another caller ID": call(CallOutcome.CONNECTED, caller_id="+12125550111"),
        "a test call": call(CallOutcome.CONNECTED, call_type=CallType.TEST),
        "no workflow": call(CallOutcome.CONNECTED, workflow=None),
    }
    uptown = CallBook(container, _second_location(container, tenant))
    hidden["another location"] = uptown.call(
        CallOutcome.CONNECTED, day=TODAY, turns=said, recording=True, caller_id="+12125550122"
    )
    hidden["another practice"] = CallBook(container, other_tenant).call(
        CallOutcome.CONNECTED, day=TODAY, turns=said, recording=True, caller_id="+13105550133"
    )
    workflow = book.workflow("Appointment confirmations")
    number = book.number("+12125550100")
    filters = (
        f"status=connected&workflow={workflow}&number={number}&range=custom&from={TODAY}&to={TODAY}"
    )

    sign_in(client, tenant)
    path = _link(client, tenant, filters)
    everything = _link(client, tenant, "")
    anonymous = TestClient(client.app)
    page = anonymous.get(path).text
    assert page.count('<tr data-job="') == 1
    assert SHOWN in page
    [listed] = shared_call_refs(page, path)

    with container.uow() as uow:
        links = dict(
            uow.session.execute(
                select(DashboardShareLink.id, DashboardShareLink.filters).order_by(
                    DashboardShareLink.id
                )
            ).all()
        )
        every_id = list(uow.session.scalars(select(CallJob.id).order_by(CallJob.id)))
    link_id, everything_id = list(links)
    secret = secret_key(container.settings)
    assert job_of_ref(secret, link_id, listed) == shown
    assert set(hidden.values()) < set(every_id)

    opened = []
    for job_id in every_id:
        ref = call_ref(secret, link_id, job_id)
        drawer = anonymous.get(f"{path}/calls/{ref}")
        recording = anonymous.get(f"{path}/calls/{ref}/recording")
        assert drawer.status_code in (200, 404)
        assert recording.status_code in (200, 404)
        if drawer.status_code == 200 or recording.status_code == 200:
            opened.append(job_id)
        # A raw id opens nothing, whatever the call.
        assert anonymous.get(f"{path}/calls/{job_id}").status_code == 404
        assert anonymous.get(f"{path}/calls/{job_id}/recording").status_code == 404
    assert opened == [shown], {why: j for why, j in hidden.items() if j in opened}
    assert "My filler hurts." in anonymous.get(f"{path}/calls/{listed}").text

    # A reference made for one link opens nothing under another, even one that shows the call.
    assert anonymous.get(f"{everything}/calls/{listed}").status_code == 404
    wider = call_ref(secret, everything_id, shown)
    assert anonymous.get(f"{everything}/calls/{wider}").status_code == 200
    for garbage in ("A" * 22, "not-a-ref", wider[:-1] + ("A" if wider[-1] != "A" else "B")):
        assert anonymous.get(f"{path}/calls/{garbage}").status_code == 404
