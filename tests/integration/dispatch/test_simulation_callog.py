"""The simulation audit reads a contact's opt-out history from the stored trail: a voice DND
or an opt-out flag switched on and cleared later, and the "Opted Out" tag added, each keep the
number suppressed until consent for it is recorded after the opt-out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from ringfence.adapters.db.orm import ConsentRecord, Contact, Tag
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.domain.vocabulary import Channel, ConsentKind
from ringfence.services.contacts import ContactFields, apply_contact_changes
from ringfence.services.unit_of_work import TenantScope
from ringfence.simulation.audit import (
    AuditedDial,
    AuditedOptOut,
    AuditRule,
    OptOutHow,
    audit_dials,
)
from ringfence.simulation.callog import audited_contacts, audited_locations

from .practice import Practice, make_practice

DND, FLAG, TAG = "+12125550101", "+12125550102", "+12125550103"


def _change(practice: Practice, contact_id: int, at: datetime, **changes: object) -> None:
    with practice.container.uow() as uow:
        contact = uow.session.get(Contact, contact_id)
        assert contact is not None
        scope = TenantScope(account_id=practice.account_id, actor="test")
        apply_contact_changes(
            uow=uow,
            scope=scope,
            contact=contact,
            changes=cast(ContactFields, changes),
            now=at,
            creating=False,
        )
        uow.commit()


def _audit(practice: Practice, at: datetime) -> dict[str, list[AuditRule]]:
    """Each contact dialed once, a minute apart from `at` on: the rules the audit finds broken,
    by number."""
    with practice.container.session_factory() as session:
        contacts = audited_contacts(session)
        locations = audited_locations(session)
    dials = [
        AuditedDial(job, c.location_id, c.contact_id, c.phone_e164, at + timedelta(minutes=job))
        for job, c in enumerate(contacts)
    ]
    report = audit_dials(dials, contacts, locations)
    found: dict[str, list[AuditRule]] = {c.phone_e164 or "": [] for c in contacts}
    for violation in report.violations:
        found[contacts[violation.job_id].phone_e164 or ""].append(violation.rule)
    return found


def test_cleared_flags_and_tags_keep_the_number_suppressed_until_new_consent(
    container: Container, clock: VirtualClock
) -> None:
    practice = make_practice(container)
    ids = {phone: practice.add_contact(phone) for phone in (DND, FLAG, TAG)}
    start = clock.now()
    on, off = start + timedelta(minutes=10), start + timedelta(minutes=20)
    with container.uow() as uow:
        tag = Tag(account_id=practice.account_id, name=OPT_OUT_TAG)
        tag.created_at = tag.updated_at = start
        uow.session.add(tag)
        uow.commit()
    _change(practice, ids[DND], on, dnd_voice=True)
    _change(practice, ids[DND], off, dnd_voice=False)
    _change(practice, ids[FLAG], on, opted_out_at=on, opted_out_channel=Channel.EMAIL)
    _change(practice, ids[FLAG], off, opted_out_at=None, opted_out_channel=None)
    _change(practice, ids[TAG], on, tags=[OPT_OUT_TAG])

    with container.session_factory() as session:
        history = {c.phone_e164: c for c in audited_contacts(session)}
    assert history[DND].opt_outs == (AuditedOptOut(on, OptOutHow.DND_VOICE),)
    assert history[DND].dnd_voice_since is None
    assert history[FLAG].opt_outs == (AuditedOptOut(on, OptOutHow.OPT_OUT_FLAG),)
    assert history[FLAG].opted_out_at is None
    assert history[TAG].opt_outs == (AuditedOptOut(on, OptOutHow.OPT_OUT_TAG),)

    # An hour later, nothing is set on the first two, and yet each number is suppressed.
    later = start + timedelta(hours=1)
    assert _audit(practice, start + timedelta(minutes=5)) == {DND: [], FLAG: [], TAG: []}
    suppressed = [AuditRule.NUMBER_SUPPRESSED]
    assert _audit(practice, later) == {DND: suppressed, FLAG: suppressed, TAG: suppressed}

    # Written consent recorded after the opt-out lifts it, for that number only.
    with container.uow() as uow:
        uow.session.add(
            ConsentRecord(
                account_id=practice.account_id,
                location_id=practice.location_id,
                contact_id=ids[DND],
                kind=ConsentKind.MANUAL_WRITTEN,
                channel=Channel.VOICE,
                recorded_at=off + timedelta(minutes=5),
                recorded_by="test",
                confirmed_by="front desk",
                phone_e164=DND,
            )
        )
        uow.commit()
    assert _audit(practice, later) == {DND: [], FLAG: suppressed, TAG: suppressed}


def test_dnd_in_force_counts_from_its_last_switch_on(
    container: Container, clock: VirtualClock
) -> None:
    """DND on, off, on again: in force since the second switch, so a dial between the two
    with consent recorded after the first is lawful."""
    practice = make_practice(container)
    contact_id = practice.add_contact(DND)
    start = clock.now()
    first, cleared, second = (start + timedelta(hours=h) for h in (1, 2, 5))
    _change(practice, contact_id, first, dnd_voice=True)
    _change(practice, contact_id, cleared, dnd_voice=False)
    with container.uow() as uow:
        uow.session.add(
            ConsentRecord(
                account_id=practice.account_id,
                location_id=practice.location_id,
                contact_id=contact_id,
                kind=ConsentKind.MANUAL_WRITTEN,
                channel=Channel.VOICE,
                recorded_at=cleared + timedelta(minutes=1),
                recorded_by="test",
                confirmed_by="front desk",
                phone_e164=DND,
            )
        )
        uow.commit()
    _change(practice, contact_id, second, dnd_voice=True)
    with container.session_factory() as session:
        [who] = audited_contacts(session)
    assert who.dnd_voice_since == second
    assert [o.at for o in who.opt_outs] == [first, second]
    assert _audit(practice, start + timedelta(hours=3)) == {DND: []}
    assert _audit(practice, second) == {DND: [AuditRule.DND_VOICE]}
