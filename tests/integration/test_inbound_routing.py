"""An incoming call's facts, read from the database: the practice line it was dialed to (one
practice's, or refused), who may be calling (within that practice only) and our call it may be
returning."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.orm import Location
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.inbound import (
    LikelyCaller,
    Refused,
    RouteRefusal,
    SharedLine,
    UnknownCaller,
    match_spoken_name,
    reason_for_our_call,
)
from ringfence.domain.vocabulary import CallPurpose, CallStatus
from ringfence.services.inbound_routing import AnsweredCall, answer_incoming
from tests.conftest import Tenant
from tests.factories import add_caller_id
from tests.integration.dispatch.practice import Practice

LINE = "+12125550147"
FAMILY = "+12125550160"


def _practice(container: Container, tenant: Tenant) -> Practice:
    return Practice(container, account_id=tenant.account_id, location_id=tenant.location_id)


def _location(container: Container, tenant: Tenant, name: str) -> int:
    with container.uow() as uow:
        now = uow.clock.now()
        location = Location(
            account_id=tenant.account_id,
            name=name,
            time_zone="America/New_York",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(location)
        uow.commit()
        return location.id


def _dialed(container: Container, job_id: int, *, days_ago: int, phone: str) -> None:
    with container.uow() as uow:
        at = uow.clock.now() - timedelta(days=days_ago)
        uow.session.execute(
            update(CallJob)
            .where(CallJob.id == job_id)
            .values(status=CallStatus.COMPLETED, dialed_at=at, phone_e164=phone)
        )
        uow.commit()


def _answer(container: Container, dialed: str, caller: str | None) -> AnsweredCall | Refused:
    with container.uow() as uow:
        return answer_incoming(uow.session, dialed=dialed, caller=caller, now=uow.clock.now())


def test_a_family_line_calling_back_is_asked_who_it_is_and_told_only_the_courtesy(
    container: Container, clock: VirtualClock, tenant: Tenant, other_tenant: Tenant
) -> None:
    add_caller_id(container, tenant, LINE)
    practice = _practice(container, tenant)
    # A location holds a number once: the family line is known at the account's other two.
    uptown, midtown = _location(container, tenant, "Uptown"), _location(container, tenant, "Mid")
    maria = Practice(container, tenant.account_id, uptown).add_contact(
        FAMILY, first_name="Maria", last_name="Lopez"
    )
    Practice(container, tenant.account_id, midtown).add_contact(
        FAMILY, first_name="Ana", last_name="Lopez"
    )
    # Another practice's patient with the same number is none of this call's business.
    _practice(container, other_tenant).add_contact(FAMILY, first_name="Zoe", last_name="Kim")
    [job] = practice.enqueue(maria, purpose=CallPurpose.TREATMENT_REMINDER)
    _dialed(container, job, days_ago=2, phone=FAMILY)

    answered = _answer(container, "(212) 555-0147", "+1 212 555 0160")
    assert isinstance(answered, AnsweredCall)
    assert (answered.line.account_id, answered.line.location_id) == (
        tenant.account_id,
        tenant.location_id,
    )
    assert isinstance(answered.recognition, SharedLine)
    names = {c.first_name for c in answered.recognition.candidates}
    assert names == {"Maria", "Ana"}
    assert answered.returning is not None
    assert answered.returning.job_id == job

    said = reason_for_our_call(answered.returning, practice="Glow", identity_confirmed_for=None)
    assert said == "Glow called this number with a courtesy message."
    who = match_spoken_name("hi, this is maria", answered.recognition.candidates)
    assert who is not None
    assert who.contact_id == maria
    said = reason_for_our_call(
        answered.returning, practice="Glow", identity_confirmed_for=who.contact_id
    )
    assert said == "Glow called about a treatment that may be due."


def test_unknown_withheld_and_stale_calls(
    container: Container, clock: VirtualClock, tenant: Tenant
) -> None:
    add_caller_id(container, tenant, LINE)
    practice = _practice(container, tenant)
    pat = practice.add_contact("+12125550161", first_name="Pat")
    [job] = practice.enqueue(pat)
    _dialed(container, job, days_ago=20, phone="+12125550161")  # long before: not a return

    known = _answer(container, LINE, "+12125550161")
    assert isinstance(known, AnsweredCall)
    assert isinstance(known.recognition, LikelyCaller)
    assert known.recognition.candidate.contact_id == pat
    assert known.returning is None
    # The same number at another location too: the called location's contact comes first.
    elsewhere = _location(container, tenant, "Elsewhere")
    Practice(container, tenant.account_id, elsewhere).add_contact("+12125550161")
    first = _answer(container, LINE, "+12125550161")
    assert isinstance(first, AnsweredCall)
    assert first.recognition == known.recognition

    stranger = _answer(container, LINE, "+13055550188")
    assert isinstance(stranger, AnsweredCall)
    assert stranger.recognition == UnknownCaller(withheld=False)
    withheld = _answer(container, LINE, "anonymous")
    assert isinstance(withheld, AnsweredCall)
    assert withheld.recognition == UnknownCaller(withheld=True)
    assert withheld.caller is None


def test_a_number_no_one_or_two_practices_registered_is_refused(
    container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    assert _answer(container, LINE, None) == Refused(RouteRefusal.UNKNOWN_NUMBER, LINE)
    add_caller_id(container, tenant, LINE)
    add_caller_id(container, other_tenant, LINE)
    assert _answer(container, LINE, "+12125550161") == Refused(RouteRefusal.SHARED_NUMBER, LINE)
