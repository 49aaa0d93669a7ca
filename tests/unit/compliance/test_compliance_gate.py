"""Table tests for `evaluate()`: every reason code, precedence, explanations, warnings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ringfence.domain.compliance import (
    REASONS,
    CallFacts,
    ConsentFacts,
    ContactFacts,
    Defer,
    Dial,
    Effect,
    Fail,
    LocationFacts,
    NaiveDatetimeError,
    Outcome,
    ReasonCode,
    Rule,
    WarningCode,
    evaluate,
)
from ringfence.domain.vocabulary import CallPurpose, Channel, ContactSource, KycStatus

from .factories import NOW, make_facts, utc

MARKETING = CallPurpose.LEAD_REACTIVATION


def test_a_clean_call_dials_and_every_rule_is_reported() -> None:
    evaluation = evaluate(make_facts(), NOW)
    assert evaluation.verdict == Dial()
    assert [c.rule for c in evaluation.checks] == list(Rule)
    assert evaluation.time_zones == ("America/New_York",)
    assert evaluation.states == ("NY",)
    assert evaluation.policy_version
    for check in evaluation.checks:
        assert check.outcome in (Outcome.PASSED, Outcome.NOT_APPLICABLE)
        assert check.detail


FAIL_CASES = [
    pytest.param(make_facts(kyc=KycStatus.SUBMITTED), ReasonCode.KYC_NOT_APPROVED, id="kyc"),
    pytest.param(make_facts(outbound=False), ReasonCode.OUTBOUND_DISABLED, id="outbound"),
    pytest.param(make_facts(phone=None), ReasonCode.NUMBER_MISSING, id="missing"),
    pytest.param(make_facts(phone="  "), ReasonCode.NUMBER_MISSING, id="blank"),
    pytest.param(make_facts(phone="+15550100000"), ReasonCode.NUMBER_INVALID, id="invalid"),
    pytest.param(make_facts(phone="2125550123"), ReasonCode.NUMBER_INVALID, id="not-e164"),
    pytest.param(make_facts(phone="+1212555012"), ReasonCode.NUMBER_INVALID, id="short"),
    pytest.param(make_facts(phone="+16475550123"), ReasonCode.NUMBER_NOT_US, id="canada-647"),
    pytest.param(make_facts(phone="+18762345678"), ReasonCode.NUMBER_NOT_US, id="jamaica"),
    pytest.param(make_facts(phone="+17875550123"), ReasonCode.NUMBER_NOT_US, id="puerto-rico"),
    pytest.param(make_facts(phone="+16714770123"), ReasonCode.NUMBER_NOT_US, id="guam"),
    pytest.param(make_facts(phone="+442079460958"), ReasonCode.NUMBER_NOT_US, id="uk"),
    pytest.param(make_facts(phone="+18005550123"), ReasonCode.NUMBER_NOT_GEOGRAPHIC, id="800"),
    pytest.param(make_facts(phone="+18885550123"), ReasonCode.NUMBER_NOT_GEOGRAPHIC, id="888"),
    pytest.param(make_facts(phone="+19002345678"), ReasonCode.NUMBER_NOT_GEOGRAPHIC, id="900"),
    pytest.param(make_facts(consent=ConsentFacts()), ReasonCode.NO_OPT_IN, id="no-opt-in"),
    pytest.param(
        make_facts(source=ContactSource.IMPORT, consent=ConsentFacts()),
        ReasonCode.WRITTEN_CONSENT_UNCONFIRMED,
        id="import-unconfirmed",
    ),
    pytest.param(
        make_facts(
            consent=ConsentFacts(
                crm_form_opt_in_at=NOW - timedelta(days=30),
                revoked_at=NOW - timedelta(days=1),
            )
        ),
        ReasonCode.CONSENT_REVOKED,
        id="revoked",
    ),
    pytest.param(make_facts(dnd=True), ReasonCode.DND_VOICE, id="dnd"),
    pytest.param(
        make_facts(opted_out_at=NOW - timedelta(days=2), opted_out_channel=Channel.VOICE),
        ReasonCode.OPTED_OUT,
        id="opt-out-voice",
    ),
    pytest.param(
        make_facts(opted_out_at=NOW - timedelta(days=2), opted_out_channel=Channel.SMS),
        ReasonCode.OPTED_OUT,
        id="opt-out-sms",
    ),
    pytest.param(
        make_facts(opted_out_at=NOW - timedelta(days=2)), ReasonCode.OPTED_OUT, id="opt-out-all"
    ),
    pytest.param(
        make_facts(number_dials=tuple(NOW - timedelta(days=d) for d in (1, 3, 6, 9))),
        ReasonCode.FOURTEEN_DAY_CAP,
        id="fifth-in-14-days",
    ),
]


@pytest.mark.parametrize(("facts", "reason"), FAIL_CASES)
def test_fail_reasons(facts: CallFacts, reason: ReasonCode) -> None:
    evaluation = evaluate(facts, NOW)
    assert evaluation.verdict == Fail(reason)
    assert evaluation.verdict.status == "failed"
    assert REASONS[reason].effect is Effect.FAIL
    failed = [c for c in evaluation.checks if c.outcome is Outcome.FAILED]
    assert failed[0].reason is reason
    assert failed[0].rule is REASONS[reason].rule


@pytest.mark.parametrize(
    ("source", "consent", "passes"),
    [
        (ContactSource.FORM, ConsentFacts(crm_form_opt_in_at=NOW), True),
        (ContactSource.FORM, ConsentFacts(manual_written_at=NOW - timedelta(days=1)), True),
        (ContactSource.IMPORT, ConsentFacts(manual_written_at=NOW - timedelta(days=1)), True),
        (ContactSource.MANUAL, ConsentFacts(manual_written_at=NOW - timedelta(days=1)), True),
        (ContactSource.EXTERNAL, ConsentFacts(crm_form_opt_in_at=NOW - timedelta(days=1)), True),
        # A consent recorded after `now` does not count yet.
        (ContactSource.FORM, ConsentFacts(crm_form_opt_in_at=NOW + timedelta(seconds=1)), False),
        # A newer consent re-establishes a revoked one; a same-instant revocation wins.
        (
            ContactSource.FORM,
            ConsentFacts(crm_form_opt_in_at=NOW, revoked_at=NOW - timedelta(days=1)),
            True,
        ),
        (ContactSource.FORM, ConsentFacts(crm_form_opt_in_at=NOW, revoked_at=NOW), False),
        (ContactSource.FORM, ConsentFacts(revoked_at=NOW - timedelta(days=1)), False),
    ],
)
def test_consent_sources_and_revocation(
    source: ContactSource, consent: ConsentFacts, passes: bool
) -> None:
    check = evaluate(make_facts(source=source, consent=consent), NOW).check(Rule.CONSENT)
    assert (check.outcome is Outcome.PASSED) is passes


def test_failures_win_over_deferrals_and_all_rules_still_report() -> None:
    night = utc(2026, 3, 10, 3, 0)  # 23:00 in New York
    evaluation = evaluate(make_facts(dnd=True, dials_today=100), night)
    assert evaluation.verdict == Fail(ReasonCode.DND_VOICE)
    assert evaluation.check(Rule.CALLING_WINDOW).outcome is Outcome.DEFERRED
    assert evaluation.check(Rule.LOCATION_DAILY_CAP).outcome is Outcome.DEFERRED


def test_number_failure_skips_the_geographic_rules() -> None:
    evaluation = evaluate(make_facts(phone="+16475550123"), NOW)
    assert evaluation.check(Rule.CALLING_WINDOW).outcome is Outcome.SKIPPED
    assert evaluation.time_zones == ()


def test_outside_window_defers_to_the_next_opening() -> None:
    early = utc(2026, 3, 10, 12, 0)  # 08:00 EDT
    evaluation = evaluate(make_facts(), early)
    assert evaluation.verdict == Defer(utc(2026, 3, 10, 14, 0), ReasonCode.OUTSIDE_WINDOW)
    assert evaluation.verdict.status == "deferred"
    check = evaluation.check(Rule.CALLING_WINDOW)
    assert check.until == utc(2026, 3, 10, 14, 0)
    assert "opens 2026-03-10T14:00Z" in check.detail


def test_window_end_is_exclusive() -> None:
    assert evaluate(make_facts(), utc(2026, 3, 10, 21, 59)).verdict == Dial()
    closed = evaluate(make_facts(), utc(2026, 3, 10, 22, 0)).verdict
    assert closed == Defer(utc(2026, 3, 11, 14, 0), ReasonCode.OUTSIDE_WINDOW)


def test_pacing_is_a_queued_defer_to_the_next_slot() -> None:
    facts = make_facts(last_dial_at=NOW - timedelta(seconds=20))
    verdict = evaluate(facts, NOW).verdict
    assert verdict == Defer(NOW + timedelta(seconds=40), ReasonCode.LOCATION_PACING)
    assert isinstance(verdict, Defer)
    assert verdict.queued
    assert verdict.status == "queued"
    assert evaluate(make_facts(last_dial_at=NOW - timedelta(seconds=60)), NOW).verdict == Dial()


def test_location_daily_cap_overflows_to_the_next_days_earliest_window() -> None:
    # Location in Los Angeles, contact in New York: the location's day ends 07:00Z, the
    # contact's window opens 10:00 EDT = 14:00Z.
    facts = make_facts(location_tz="America/Los_Angeles", dials_today=100)
    evaluation = evaluate(facts, NOW)
    assert evaluation.verdict == Defer(utc(2026, 3, 11, 14, 0), ReasonCode.LOCATION_DAILY_CAP)
    assert evaluation.check(Rule.LOCATION_DAILY_CAP).detail.startswith("100 of 100")
    assert evaluate(make_facts(dials_today=99), NOW).verdict == Dial()


def test_number_daily_cap_uses_the_contacts_calendar_days() -> None:
    # 06:59Z on the 10th is still the 9th in Los Angeles but the 10th in New York. For a New
    # York number the dial counts today wherever the location is...
    late_dial = utc(2026, 3, 10, 6, 59)
    for location_tz in ("America/Los_Angeles", "America/New_York"):
        facts = make_facts(location_tz=location_tz, number_dials=(late_dial,))
        evaluation = evaluate(facts, NOW)
        assert evaluation.verdict == Defer(utc(2026, 3, 11, 14, 0), ReasonCode.NUMBER_DAILY_CAP)
    # ...and for a Los Angeles number it was yesterday, even at a New York location.
    facts = make_facts(
        phone="+14155550123", location_tz="America/New_York", number_dials=(late_dial,)
    )
    assert evaluate(facts, NOW).verdict == Dial()


def test_defer_until_satisfies_every_rule_at_once() -> None:
    # Window closed (Sunday ban in Alabama), pacing and daily cap all defer: the answer is
    # Monday's first instant, not the pacing slot nor the location's next midnight.
    sunday = utc(2026, 3, 15, 16, 0)  # 11:00 CDT
    facts = make_facts(
        phone="+12055550123",
        purpose=MARKETING,
        location_tz="America/Chicago",
        dials_today=100,
        last_dial_at=sunday - timedelta(seconds=5),
    )
    evaluation = evaluate(facts, sunday)
    assert evaluation.verdict == Defer(utc(2026, 3, 16, 15, 0), ReasonCode.STATE_SUNDAY_BAN)


def test_explanations_carry_the_numbers() -> None:
    dials = (utc(2026, 3, 1, 15, 0), utc(2026, 3, 4, 15, 0), utc(2026, 3, 8, 15, 0))
    evaluation = evaluate(make_facts(number_dials=dials), NOW)
    assert evaluation.verdict == Dial()
    detail = evaluation.check(Rule.NUMBER_14_DAY_CAP).detail
    assert detail == "3 of 4 calls used in the 14-day window, next frees on 2026-03-15T15:00Z"
    assert evaluation.check(Rule.LOCATION_DAILY_CAP).detail == "0 of 100 location calls used today"


@pytest.mark.parametrize(
    ("purpose", "last_engaged", "expected"),
    [
        (CallPurpose.LEAD_REACTIVATION, None, True),
        (CallPurpose.LEAD_REACTIVATION, NOW - timedelta(days=90), True),
        (CallPurpose.LEAD_REACTIVATION, NOW - timedelta(days=89), False),
        (CallPurpose.CONSULT_FOLLOW_UP, NOW - timedelta(days=400), False),
    ],
)
def test_cold_lead_warning(
    purpose: CallPurpose, last_engaged: datetime | None, expected: bool
) -> None:
    evaluation = evaluate(make_facts(purpose=purpose, last_engaged_at=last_engaged), NOW)
    codes = {w.code for w in evaluation.warnings}
    assert (WarningCode.COLD_LEAD in codes) is expected


@pytest.mark.parametrize(
    ("consent_at", "expected"),
    [
        (utc(2024, 9, 10, 17, 29), True),  # 18 months and a minute
        (utc(2024, 9, 10, 17, 30), False),  # exactly 18 months
        (utc(2025, 6, 1), False),
    ],
)
def test_stale_consent_warning(consent_at: datetime, expected: bool) -> None:
    facts = make_facts(consent=ConsentFacts(crm_form_opt_in_at=consent_at))
    codes = {w.code for w in evaluate(facts, NOW).warnings}
    assert (WarningCode.STALE_CONSENT in codes) is expected


def test_imported_contact_warning_does_not_block() -> None:
    facts = make_facts(
        source=ContactSource.IMPORT, consent=ConsentFacts(manual_written_at=NOW - timedelta(1))
    )
    evaluation = evaluate(facts, NOW)
    assert evaluation.verdict == Dial()
    assert [w.code for w in evaluation.warnings] == [WarningCode.IMPORTED_CONTACT]
    assert evaluation.warnings[0].code.sentence


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 3, 10, 12, 0)
    with pytest.raises(NaiveDatetimeError, match="now must be a timezone-aware"):
        evaluate(make_facts(), naive)
    with pytest.raises(NaiveDatetimeError):
        ContactFacts("+12125550123", ContactSource.FORM, last_engaged_at=naive)
    with pytest.raises(NaiveDatetimeError):
        make_facts(number_dials=(naive,))
    with pytest.raises(NaiveDatetimeError):
        ConsentFacts(revoked_at=naive)


def test_location_facts_validate_zone_and_count() -> None:
    with pytest.raises(ValueError, match="unknown IANA"):
        LocationFacts("Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="negative"):
        LocationFacts("America/New_York", dials_today=-1)


def test_non_utc_aware_now_is_the_same_instant() -> None:
    from zoneinfo import ZoneInfo

    local_now = NOW.astimezone(ZoneInfo("America/Denver"))
    assert evaluate(make_facts(), local_now).verdict == evaluate(make_facts(), NOW).verdict
    assert NOW.tzinfo is UTC


def test_a_call_that_cannot_dial_before_its_deadline_fails_instead_of_calling_late() -> None:
    # NOW is 12:30 in New York: the call may dial now, and fails once the deadline has passed.
    on_time = evaluate(make_facts(deadline=NOW + timedelta(hours=1)), NOW)
    assert on_time.verdict == Dial()
    assert on_time.check(Rule.CALL_DEADLINE).outcome is Outcome.PASSED
    late = evaluate(make_facts(deadline=NOW), NOW)
    assert late.verdict == Fail(ReasonCode.DEADLINE_PASSED)
    # 20:00 local: the window reopens at 10:00 tomorrow, after a 09:00 deadline: fail now.
    evening = utc(2026, 3, 11, 0, 0)
    deadline = utc(2026, 3, 11, 13, 0)
    evaluation = evaluate(make_facts(deadline=deadline), evening)
    assert evaluation.verdict == Fail(ReasonCode.DEADLINE_PASSED)
    assert "earliest allowed instant" in evaluation.check(Rule.CALL_DEADLINE).detail
    # ...and with the deadline after the reopening it simply defers.
    later = evaluate(make_facts(deadline=deadline + timedelta(hours=3)), evening)
    assert isinstance(later.verdict, Defer)
    assert later.verdict.reason is ReasonCode.OUTSIDE_WINDOW
