"""Read-only dashboard share links on a real database (SQLite and PostgreSQL): the row, not
the token, decides what is granted and for how long."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select, update

from ringfence.adapters.db.dashboard import DashboardShareLink
from ringfence.adapters.db.orm import AuditEvent, Location
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.dashboard.filters import DashboardFilters, SortKey, TimeRange
from ringfence.domain.dashboard.statuses import DashStatus
from ringfence.domain.vocabulary import CallType
from ringfence.services.dashboard.share_links import (
    DEFAULT_LIFETIME,
    MAX_LIFETIME,
    ShareGrant,
    ShareLinkRefused,
    ShareRefusal,
    create_share_link,
    list_share_links,
    open_share_link,
    read_token,
    revoke_share_link,
    share_url_path,
)
from ringfence.services.errors import InvalidField, NotFound
from ringfence.services.unit_of_work import TenantScope
from tests.conftest import START, Tenant

SECRET = "share-link-test-secret-" + "x" * 20
ACTOR = "staff:alice"

FILTERS = DashboardFilters(
    time_range=TimeRange.CUSTOM,
    start=date(2026, 11, 1),
    end=date(2026, 11, 20),
    call_type=CallType.TEST,
    workflow_id=7,
    statuses=frozenset({DashStatus.CONNECTED, DashStatus.VOICEMAIL}),
    from_number_id=3,
    sort=SortKey.DURATION,
    descending=False,
    page=2,
)


def _scope(tenant: Tenant, actor: str = ACTOR) -> TenantScope:
    return TenantScope(account_id=tenant.account_id, actor=actor)


def _create(
    container: Container,
    tenant: Tenant,
    *,
    filters: DashboardFilters = FILTERS,
    location_id: int | None = None,
    **options: object,
) -> tuple[int, str]:
    with container.uow() as uow:
        link, token = create_share_link(
            uow.session,
            _scope(tenant),
            location_id=location_id or tenant.location_id,
            filters=filters,
            now=uow.clock.now(),
            secret=SECRET,
            **options,  # type: ignore[arg-type]  # the optional keywords, each test its own
        )
        link_id = link.id
        uow.commit()
    return link_id, token


def _open(container: Container, token: str) -> ShareGrant:
    with container.uow() as uow:
        grant = open_share_link(uow.session, token, now=uow.clock.now(), secret=SECRET)
        uow.commit()
    return grant


def _refusal(container: Container, token: str) -> ShareRefusal:
    with pytest.raises(ShareLinkRefused) as refused:
        _open(container, token)
    return refused.value.reason


def _link(container: Container, link_id: int) -> DashboardShareLink:
    with container.uow() as uow:
        link = uow.session.get(DashboardShareLink, link_id)
        assert link is not None
        uow.session.expunge(link)  # keeps its loaded values past the unit of work's rollback
        return link


def _add_location(container: Container, tenant: Tenant, name: str) -> int:
    with container.uow() as uow:
        now = uow.clock.now()
        location = Location(
            account_id=tenant.account_id,
            name=name,
            time_zone="America/Chicago",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(location)
        uow.session.flush()
        location_id = location.id
        uow.commit()
    return location_id


def test_a_link_opens_with_its_filters_exactly_and_without_phi_by_default(
    container: Container, tenant: Tenant
) -> None:
    link_id, token = _create(container, tenant, label="  Q4 review for Dr. Lee  ")
    assert share_url_path(token) == f"/share/dashboard/{token}"

    grant = _open(container, token)
    assert grant == ShareGrant(
        link_id=link_id,
        account_id=tenant.account_id,
        location_id=tenant.location_id,
        label="Q4 review for Dr. Lee",
        filters=FILTERS,
        include_phi=False,
        expires_at=START + DEFAULT_LIFETIME,
    )
    link = _link(container, link_id)
    assert link.created_by == ACTOR
    assert link.created_at == START
    assert link.filters == FILTERS.query()
    # The token names the row (and fingerprints it); what it grants is read from the row.
    named = read_token(SECRET, token)
    assert named is not None
    assert named[0] == link_id
    assert "custom" not in token
    assert "workflow" not in token


def test_phi_is_shared_only_when_asked(container: Container, tenant: Tenant) -> None:
    _, token = _create(container, tenant, include_phi=True, filters=DashboardFilters())
    grant = _open(container, token)
    assert grant.include_phi
    assert grant.filters == DashboardFilters()


def test_a_link_expires_after_its_lifetime_on_the_clock(
    container: Container, tenant: Tenant, clock: VirtualClock
) -> None:
    _, week = _create(container, tenant)
    _, hour = _create(container, tenant, lifetime=timedelta(hours=1))

    clock.advance(timedelta(minutes=59))
    assert _open(container, hour).expires_at == START + timedelta(hours=1)
    clock.advance(timedelta(minutes=2))  # 61 minutes in
    assert _refusal(container, hour) is ShareRefusal.EXPIRED
    assert _open(container, week).link_id

    clock.set(START + DEFAULT_LIFETIME - timedelta(seconds=1))
    _open(container, week)
    clock.advance(timedelta(seconds=1))
    assert _refusal(container, week) is ShareRefusal.EXPIRED


def test_a_tampered_or_foreign_token_is_invalid(container: Container, tenant: Tenant) -> None:
    _, token = _create(container, tenant)
    _, other = _create(container, tenant, include_phi=True)
    payload, signature = token.rsplit(".", 1)
    # The first character of the signature is all signature bits (the last one is partly
    # base64 padding, so changing it may change nothing).
    wrong = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert _refusal(container, f"{payload}.{wrong}") is ShareRefusal.INVALID
    other_payload, _ = other.rsplit(".", 1)
    assert _refusal(container, f"{other_payload}.{signature}") is ShareRefusal.INVALID
    assert _refusal(container, "garbage") is ShareRefusal.INVALID
    assert _refusal(container, "") is ShareRefusal.INVALID
    assert _refusal(container, token + "x" * 300) is ShareRefusal.INVALID
    with container.uow() as uow, pytest.raises(ShareLinkRefused) as refused:
        open_share_link(uow.session, token, now=uow.clock.now(), secret="another-" + SECRET)
    assert refused.value.reason is ShareRefusal.INVALID
    assert _open(container, token).link_id  # the genuine token still opens


def test_the_rows_expiry_is_the_authority(
    container: Container, tenant: Tenant, clock: VirtualClock
) -> None:
    link_id, token = _create(container, tenant, lifetime=MAX_LIFETIME)
    with container.uow() as uow:
        uow.session.execute(
            update(DashboardShareLink)
            .where(DashboardShareLink.id == link_id)
            .values(expires_at=START + timedelta(hours=2))
        )
        uow.commit()
    clock.advance(timedelta(hours=2))
    assert _refusal(container, token) is ShareRefusal.EXPIRED


def test_a_revoked_link_is_refused_and_revoking_twice_keeps_the_first_revocation(
    container: Container, tenant: Tenant, clock: VirtualClock
) -> None:
    link_id, token = _create(container, tenant)
    clock.advance(timedelta(hours=3))
    with container.uow() as uow:
        link = revoke_share_link(uow.session, _scope(tenant), link_id, now=uow.clock.now())
        uow.commit()
    assert link.revoked_at == START + timedelta(hours=3)
    assert _refusal(container, token) is ShareRefusal.REVOKED

    clock.advance(timedelta(hours=1))
    with container.uow() as uow:
        again = revoke_share_link(
            uow.session, _scope(tenant, "staff:bob"), link_id, now=uow.clock.now()
        )
        uow.commit()
        uow.session.expunge(again)
    assert again.revoked_at == START + timedelta(hours=3)
    assert again.revoked_by == ACTOR
    # Revoked outranks expired: the reason a holder sees is the deliberate one.
    clock.advance(DEFAULT_LIFETIME)
    assert _refusal(container, token) is ShareRefusal.REVOKED


def test_another_account_cannot_see_revoke_or_create_on_this_accounts_links(
    container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    link_id, token = _create(container, tenant)
    with container.uow() as uow:
        session = uow.session
        now = uow.clock.now()
        with pytest.raises(NotFound):
            revoke_share_link(session, _scope(other_tenant), link_id, now=now)
        assert list_share_links(session, _scope(other_tenant)) == []
        with pytest.raises(NotFound):
            list_share_links(session, _scope(other_tenant), location_id=tenant.location_id)
        with pytest.raises(NotFound):
            create_share_link(
                session,
                _scope(other_tenant),
                location_id=tenant.location_id,
                filters=FILTERS,
                now=now,
                secret=SECRET,
            )
    assert _open(container, token).account_id == tenant.account_id
    assert _link(container, link_id).revoked_at is None


def test_links_are_listed_newest_first_and_by_location(
    container: Container, tenant: Tenant, clock: VirtualClock
) -> None:
    second_location = _add_location(container, tenant, "Glow uptown")
    first, _ = _create(container, tenant)
    clock.advance(timedelta(minutes=5))
    second, _ = _create(container, tenant, location_id=second_location)
    clock.advance(timedelta(minutes=5))
    third, _ = _create(container, tenant)
    with container.uow() as uow:
        scope = _scope(tenant)
        every = list_share_links(uow.session, scope)
        here = list_share_links(uow.session, scope, location_id=tenant.location_id)
        uptown = list_share_links(uow.session, scope, location_id=second_location)
        uow.session.expunge_all()
    assert [link.id for link in every] == [third, second, first]
    assert [link.id for link in here] == [third, first]
    assert [link.id for link in uptown] == [second]


def test_a_token_whose_link_was_deleted_is_missing_even_if_its_id_comes_back(
    container: Container, tenant: Tenant
) -> None:
    link_id, token = _create(container, tenant)
    with container.uow() as uow:
        uow.session.execute(delete(DashboardShareLink).where(DashboardShareLink.id == link_id))
        uow.commit()
    assert _refusal(container, token) is ShareRefusal.MISSING

    # SQLite hands the deleted id out again; the old token must not open the new link.
    _, newer = _create(container, tenant, include_phi=True)
    assert _refusal(container, token) is ShareRefusal.MISSING
    assert _open(container, newer).include_phi


@pytest.mark.parametrize(
    "lifetime",
    [timedelta(0), timedelta(hours=-1), timedelta(minutes=59), MAX_LIFETIME + timedelta(1)],
)
def test_a_lifetime_outside_one_hour_to_ninety_days_names_the_field(
    container: Container, tenant: Tenant, lifetime: timedelta
) -> None:
    with pytest.raises(InvalidField) as invalid:
        _create(container, tenant, lifetime=lifetime)
    assert invalid.value.field == "expires_in_days"
    with container.uow() as uow:
        assert list_share_links(uow.session, _scope(tenant)) == []


def test_the_lifetime_bounds_themselves_are_accepted(container: Container, tenant: Tenant) -> None:
    _, shortest = _create(container, tenant, lifetime=timedelta(hours=1))
    _, longest = _create(container, tenant, lifetime=MAX_LIFETIME)
    assert _open(container, shortest).expires_at == START + timedelta(hours=1)
    assert _open(container, longest).expires_at == START + MAX_LIFETIME


def test_a_long_label_or_unreadable_filters_name_their_field(
    container: Container, tenant: Tenant
) -> None:
    _create(container, tenant, label="x" * 200)
    with pytest.raises(InvalidField) as long_label:
        _create(container, tenant, label="x" * 201)
    assert long_label.value.field == "label"
    # A custom range with no dates would be stored as a query the dashboard refuses.
    with pytest.raises(InvalidField) as no_dates:
        _create(container, tenant, filters=DashboardFilters(time_range=TimeRange.CUSTOM))
    assert no_dates.value.field == "from"


def test_each_view_is_counted_and_refusals_are_not(
    container: Container, tenant: Tenant, clock: VirtualClock
) -> None:
    link_id, token = _create(container, tenant)
    assert _link(container, link_id).views == 0
    assert _link(container, link_id).last_viewed_at is None
    for _ in range(3):
        clock.advance(timedelta(minutes=10))
        _open(container, token)
    link = _link(container, link_id)
    assert link.views == 3
    assert link.last_viewed_at == START + timedelta(minutes=30)

    with container.uow() as uow:
        revoke_share_link(uow.session, _scope(tenant), link_id, now=uow.clock.now())
        uow.commit()
    clock.advance(timedelta(minutes=10))
    _refusal(container, token)
    assert _link(container, link_id).views == 3


def test_creating_and_revoking_are_audited(
    container: Container, tenant: Tenant, clock: VirtualClock
) -> None:
    link_id, _ = _create(container, tenant, include_phi=True, label="For the owner")
    clock.advance(timedelta(hours=1))
    with container.uow() as uow:
        revoke_share_link(uow.session, _scope(tenant, "staff:bob"), link_id, now=uow.clock.now())
        uow.commit()
    with container.uow() as uow:
        revoke_share_link(uow.session, _scope(tenant), link_id, now=uow.clock.now())
        uow.commit()

    with container.uow() as uow:
        events = uow.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "dashboard_share_link")
            .order_by(AuditEvent.id)
        ).all()
        uow.session.expunge_all()
    created, revoked = events  # the second revocation changed nothing, so recorded nothing
    assert (created.account_id, created.entity_id, created.actor) == (
        tenant.account_id,
        link_id,
        ACTOR,
    )
    assert created.action == "dashboard_share_link.created"
    assert created.occurred_at == START
    assert created.after == {
        "location_id": tenant.location_id,
        "label": "For the owner",
        "filters": FILTERS.query(),
        "include_phi": True,
        "expires_at": (START + DEFAULT_LIFETIME).isoformat(),
    }
    assert revoked.action == "dashboard_share_link.revoked"
    assert revoked.actor == "staff:bob"
    assert revoked.occurred_at == START + timedelta(hours=1)
    assert revoked.before == {"revoked_at": None, "revoked_by": None}
    assert revoked.after == {
        "revoked_at": (START + timedelta(hours=1)).isoformat(),
        "revoked_by": "staff:bob",
    }
