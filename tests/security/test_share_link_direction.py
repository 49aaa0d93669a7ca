"""A share link is bound to its direction (issue 19): a link made for the Inbound view never
opens an outbound call's drawer or recording, and an outbound link never an inbound one.

The direction is part of the link's filter set (`direction=inbound` in its stored query), so
every shared route applies it through the list's own query (`call_log.in_view`). A link stored
before inbound calls existed has no direction in its query and keeps meaning outbound. As
test_share_link_scope.py does, this walks every call id in the database with a *valid*
reference for each link (as if references could be forged)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.dashboard import DashboardShareLink
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallDirection, CallOutcome
from ringfence.secret_key import secret_key
from ringfence.services.dashboard.share_links import share_url_path, sign_token
from ringfence.services.dashboard.share_refs import call_ref
from tests.conftest import Tenant
from tests.dashboard_calls import PRACTICE_LINE, CallBook, answer
from tests.e2e.web_client import make_share_link, shared_call_refs, sign_in
from tests.factories import add_voice_agent

TODAY = date(2026, 11, 26)
SAID = [{"speaker": "callee", "text": "My filler hurts.", "start": 1.0, "end": 2.0}]


def _link(client: TestClient, tenant: Tenant, filters: str) -> str:
    return make_share_link(client, tenant.location_id, filters, label="direction")


def _legacy_link(container: Container, tenant: Tenant) -> tuple[int, str]:
    """A link row as the code before inbound stored it: a query without any direction."""
    with container.uow() as uow:
        now = uow.clock.now()
        link = DashboardShareLink(
            account_id=tenant.account_id,
            location_id=tenant.location_id,
            label="made before inbound",
            filters="range=30d",
            include_phi=True,
            created_by="web:api_key:legacy",
            created_at=now - timedelta(days=1),
            expires_at=now + timedelta(days=6),
            views=0,
        )
        uow.session.add(link)
        uow.session.flush()
        made = link.id, share_url_path(sign_token(secret_key(container.settings), link))
        uow.commit()
    return made


def _opened(client: TestClient, container: Container, path: str, link_id: int) -> list[int]:
    """Every call id the link opens (drawer or recording), given a valid reference for each;
    a raw id never opens anything."""
    secret = secret_key(container.settings)
    with container.uow() as uow:
        every_id = list(uow.session.scalars(select(CallJob.id).order_by(CallJob.id)))
    opened = []
    for job_id in every_id:
        ref = call_ref(secret, link_id, job_id)
        drawer = client.get(f"{path}/calls/{ref}")
        recording = client.get(f"{path}/calls/{ref}/recording")
        assert drawer.status_code in (200, 404)
        assert recording.status_code in (200, 404)
        if drawer.status_code == 200 or recording.status_code == 200:
            opened.append(job_id)
        assert client.get(f"{path}/calls/{job_id}").status_code == 404
    return opened


def _directions(container: Container) -> dict[CallDirection, set[int]]:
    with container.uow() as uow:
        rows = uow.session.execute(select(CallJob.id, CallJob.direction)).all()
    found: dict[CallDirection, set[int]] = {d: set() for d in CallDirection}
    for job_id, direction in rows:
        found[direction].add(job_id)
    return found


def test_a_link_opens_only_calls_of_its_own_direction(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    book.number(PRACTICE_LINE)
    for outcome in (CallOutcome.CONNECTED, CallOutcome.VOICEMAIL, CallOutcome.CONNECTED):
        book.call(outcome, day=TODAY, duration=30, turns=SAID, recording=True)
    for caller, said in (
        ("+12125550177", "Can I move my appointment to Friday?"),
        (None, "Hello?"),
        ("+12125550166", "Stop calling me."),
    ):
        answer(container, caller, said)
    calls = _directions(container)
    assert len(calls[CallDirection.OUTBOUND]) == 3
    assert len(calls[CallDirection.INBOUND]) == 3

    sign_in(client, tenant)
    inbound_path = _link(client, tenant, "direction=inbound")
    outbound_path = _link(client, tenant, "")
    legacy_id, legacy_path = _legacy_link(container, tenant)
    with container.uow() as uow:
        made = dict(
            uow.session.execute(
                select(DashboardShareLink.filters, DashboardShareLink.id).where(
                    DashboardShareLink.id != legacy_id
                )
            ).all()
        )
    assert set(made) == {"direction=inbound", ""}  # the direction is in the link's filters
    anonymous = TestClient(client.app)

    inbound_page = anonymous.get(inbound_path).text
    assert "Inbound dashboard" in inbound_page
    assert len(shared_call_refs(inbound_page, inbound_path)) == 3
    assert sorted(_opened(anonymous, container, inbound_path, made["direction=inbound"])) == sorted(
        calls[CallDirection.INBOUND]
    )
    assert "Stop calling me." in "".join(
        anonymous.get(f"{inbound_path}/calls/{ref}").text
        for ref in shared_call_refs(inbound_page, inbound_path)
    )

    for path, link_id in ((outbound_path, made[""]), (legacy_path, legacy_id)):
        page = anonymous.get(path).text
        assert "Outbound dashboard" in page
        assert len(shared_call_refs(page, path)) == 3
        opened = _opened(anonymous, container, path, link_id)
        assert sorted(opened) == sorted(calls[CallDirection.OUTBOUND]), path
