"""The demo practice: realistic mixed states, and seeding twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from ringfence.adapters.db import orm
from ringfence.adapters.db.workflows import Enrollment, Workflow
from ringfence.bootstrap import Container
from ringfence.domain.kyc import validate
from ringfence.domain.phone import region_of
from ringfence.domain.vocabulary import ConsentKind, ContactSource, KycStatus
from ringfence.services.api_keys import authenticate
from ringfence.services.demo import seed_demo
from ringfence.services.kyc import application_from_dict, registration_of


def _count(container: Container, model: type[object]) -> int:
    with container.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_demo_seed_is_realistic_and_idempotent(container: Container) -> None:
    with container.uow() as uow:
        first = seed_demo(uow.session, now=uow.clock.now())
        uow.commit()
    counts = {m: _count(container, m) for m in (orm.Contact, orm.ConsentRecord, orm.Appointment)}
    assert first.created
    assert first.contacts == counts[orm.Contact] == 300

    with container.uow() as uow:
        second = seed_demo(uow.session, now=uow.clock.now())
        uow.commit()
    assert not second.created
    assert {m: _count(container, m) for m in counts} == counts
    assert _count(container, orm.Account) == 1
    _assert_workflows_running(container)

    with container.uow() as uow:
        now = uow.clock.now()
        assert authenticate(uow.session, second.api_key, now=now) is not None
        assert authenticate(uow.session, first.api_key, now=now) is None  # rotated
        zones = set(uow.session.scalars(select(orm.Location.time_zone)))
        contacts = list(uow.session.scalars(select(orm.Contact)))
        kinds = set(uow.session.scalars(select(orm.ConsentRecord.kind)))
        forms = list(uow.session.scalars(select(orm.Form)))
        _assert_realistic(zones, contacts, kinds, forms)
        # The approval rests on a registration that passes the form's own checks.
        registration = registration_of(uow.session, second.account_id)
        assert registration is not None
        assert registration.status is KycStatus.APPROVED
        assert validate(application_from_dict(registration.application)) == ()


def _assert_workflows_running(container: Container) -> None:
    """Two published templates per location, the rest drafts; the seeded appointments were
    delivered as trigger events, so the sandbox carrier has work from the first minute."""
    with container.uow() as uow:
        statuses = list(uow.session.scalars(select(Workflow.status)))
        enrolled = uow.session.scalar(select(func.count()).select_from(Enrollment)) or 0
    assert sorted(s.value for s in statuses) == ["draft"] * 6 + ["published"] * 4
    assert enrolled > 20


def _assert_realistic(
    zones: set[str],
    contacts: list[orm.Contact],
    kinds: set[ConsentKind],
    forms: list[orm.Form],
) -> None:
    assert zones == {"America/New_York", "America/Phoenix"}
    assert {c.source for c in contacts} == set(ContactSource)
    assert sum(c.dnd_voice for c in contacts) > 0
    assert sum(c.opted_out_at is not None for c in contacts) > 0
    assert any(c.phone_e164 is None for c in contacts)
    assert any(c.phone_e164 and region_of(c.phone_e164) == "CA" for c in contacts)
    assert kinds == {ConsentKind.CRM_FORM, ConsentKind.MANUAL_WRITTEN, ConsentKind.REVOCATION}
    assert all(f.versions and f.consent_text for f in forms)
    # Fictional numbers only: the demo can never ring a real person.
    assert all(c.phone_e164[5:10] == "55501" for c in contacts if c.phone_e164)
