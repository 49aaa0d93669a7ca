"""The independent call-log audit: one table row per rule, each with a near miss."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.vocabulary import Channel, ConsentKind, ContactSource
from ringfence.simulation.audit import (
    FIFTY_STATES_ZONES,
    PLATFORM_LIMITS,
    AuditedConsent,
    AuditedContact,
    AuditedDial,
    AuditedLocation,
    AuditedOptOut,
    AuditLimits,
    AuditRule,
    NumberScope,
    OptOutHow,
    audit_dials,
    candidate_zones,
    number_problem,
    zones_for_area_code,
)

from .builders import (
    CONSENT_AT,
    LOS_ANGELES,
    NEW_YORK,
    SUMMER_DAY,
    WINTER_DAY,
    contact,
    dial,
    form_opt_in,
    local,
    location,
    number,
)

R = AuditRule
NOON = local(NEW_YORK, WINTER_DAY, 12)  # inside every window of the lower 48 states
NEXT_DAY = WINTER_DAY + timedelta(days=1)


@dataclass(frozen=True)
class Log:
    dials: list[AuditedDial]
    contacts: list[AuditedContact]
    locations: list[AuditedLocation]


@dataclass(frozen=True)
class Case:
    """`violating` breaks exactly `rule`, on its last dial; `near_miss` breaks nothing."""

    rule: AuditRule
    violating: Callable[[], Log]
    near_miss: Callable[[], Log]


def one_dial(at: datetime, who: AuditedContact, where: AuditedLocation | None = None) -> Log:
    where = where or location(who.location_id)
    return Log([dial(1, at, who)], [who], [where])


def window_case(
    rule_zone: str, day: date, bad: tuple[int, int, int], good: tuple[int, int, int], phone: str
) -> Case:
    return Case(
        R.OUTSIDE_WINDOW,
        lambda: one_dial(local(rule_zone, day, *bad), contact(phone=phone)),
        lambda: one_dial(local(rule_zone, day, *good), contact(phone=phone)),
    )


def same_instant_case(at: datetime, bad_phone: str, good_phone: str) -> Case:
    """Two numbers dialed at the same instant: one has a closed candidate zone, one has not."""
    return Case(
        R.OUTSIDE_WINDOW,
        lambda: one_dial(at, contact(phone=bad_phone)),
        lambda: one_dial(at, contact(phone=good_phone)),
    )


def paced(first: datetime, gap: timedelta) -> Log:
    a, b = contact(1, number("212", 100)), contact(2, number("212", 101))
    return Log([dial(1, first, a), dial(2, first + gap, b)], [a, b], [location()])


def busy_day(zone: str, first: datetime, count: int, *, skip_day_for_last: bool = False) -> Log:
    """`count` dials a minute apart from `first`, each to a new number (310 or 212 by zone)."""
    npa = "310" if zone == LOS_ANGELES else "212"
    people = [contact(i, number(npa, 100 + i)) for i in range(count)]
    instants = [first + timedelta(minutes=i) for i in range(count)]
    if skip_day_for_last:
        instants[-1] = first + timedelta(days=1)
    dials = [dial(i, at, who) for i, (at, who) in enumerate(zip(instants, people, strict=True))]
    return Log(dials, people, [location(1, zone)])


def twice(first: datetime, second: datetime, *, zone: str = NEW_YORK, npa: str = "212") -> Log:
    """One number dialed twice from two locations of one account."""
    phone = number(npa)
    a = contact(1, phone, location_id=1)
    b = contact(2, phone, location_id=2)
    return Log(
        [dial(1, first, a), dial(2, second, b)],
        [a, b],
        [location(1, zone), location(2, zone)],
    )


def shared_number(*, other_dnd: datetime, consent_after: datetime | None) -> Log:
    """The dialed contact (location 1) shares its number with a contact at location 2 of the
    same account who set DND at `other_dnd`; `consent_after`: consent for the number recorded
    later by the dialed contact."""
    phone = number("212")
    consents = (form_opt_in(CONSENT_AT),)
    if consent_after is not None:
        consents += (AuditedConsent(MANUAL, consent_after),)
    dialed = contact(1, phone, location_id=1, consents=consents)
    other = contact(2, phone, location_id=2, dnd_voice_since=other_dnd)
    return Log([dial(1, NOON, dialed)], [dialed, other], [location(1), location(2)])


def opted_out_earlier(
    how: OptOutHow,
    *,
    consent_after: datetime | None,
    by_other: bool = False,
    former_number: bool = False,
) -> Log:
    """An opt-out of the dialed number an hour before the dial, since cleared (no flag is in
    force at the dial): in the dialed contact's own history, or (`by_other`) in that of a
    contact at another location of the account, who (`former_number`) has another number
    now. `consent_after`: manual written consent for the number recorded later."""
    phone = number("212")
    consents = (form_opt_in(CONSENT_AT),)
    if consent_after is not None:
        consents += (AuditedConsent(MANUAL, consent_after),)
    opt_out = AuditedOptOut(
        NOON - timedelta(hours=1), how, phone_e164=phone if former_number else None
    )
    dialed = contact(1, phone, consents=consents, opt_outs=() if by_other else (opt_out,))
    if not by_other:
        return one_dial(NOON, dialed)
    other = contact(
        2,
        number("212", 200) if former_number else phone,
        location_id=2,
        opt_outs=(opt_out,),
    )
    return Log([dial(1, NOON, dialed)], [dialed, other], [location(1), location(2)])


def cleared_opt_out_case(how: OptOutHow, **where: bool) -> Case:
    return Case(
        R.NUMBER_SUPPRESSED,
        lambda: opted_out_earlier(how, consent_after=None, **where),
        lambda: opted_out_earlier(how, consent_after=NOON - timedelta(minutes=5), **where),
    )


def fourteen(last: datetime) -> Log:
    who = contact()
    firsts = [datetime(2026, 1, day, 16, tzinfo=UTC) for day in (5, 6, 7, 8)]
    return Log([dial(i, at, who) for i, at in enumerate([*firsts, last])], [who], [location()])


def with_consents(
    *records: tuple[ConsentKind, datetime],
    channel: Channel = Channel.VOICE,
    source: ContactSource = ContactSource.FORM,
) -> Callable[[], Log]:
    consents = tuple(
        AuditedConsent(kind, at, channel, form_valid=True if kind is FORM else None)
        for kind, at in records
    )
    return lambda: one_dial(NOON, contact(source=source, consents=consents))


FORM, MANUAL, REVOKE = ConsentKind.CRM_FORM, ConsentKind.MANUAL_WRITTEN, ConsentKind.REVOCATION

CASES = {
    # "between 10:00 AM and 6:00 PM in the contact's phone-number time zone"
    "window-opens-10:00:00": window_case(
        NEW_YORK, WINTER_DAY, (9, 59, 59), (10, 0, 0), number("212")
    ),
    "window-closes-18:00:00": window_case(
        NEW_YORK, WINTER_DAY, (18, 0, 0), (17, 59, 59), number("212")
    ),
    # DST: 14:30Z is 09:30 EST on Saturday 7 March and 10:30 EDT on Sunday 8 March.
    "dst-spring-forward": Case(
        R.OUTSIDE_WINDOW,
        lambda: one_dial(datetime(2026, 3, 7, 14, 30, tzinfo=UTC), contact()),
        lambda: one_dial(datetime(2026, 3, 8, 14, 30, tzinfo=UTC), contact()),
    ),
    # 22:30Z is 18:30 EDT on Saturday 31 October and 17:30 EST on Sunday 1 November.
    "dst-fall-back": Case(
        R.OUTSIDE_WINDOW,
        lambda: one_dial(datetime(2026, 10, 31, 22, 30, tzinfo=UTC), contact()),
        lambda: one_dial(datetime(2026, 11, 1, 22, 30, tzinfo=UTC), contact()),
    ),
    # 17:30 in Phoenix in summer is 18:30 on the Navajo Nation (Denver time, with DST).
    "arizona-928-navajo-nation": same_instant_case(
        local("America/Phoenix", SUMMER_DAY, 17, 30), number("928"), number("602")
    ),
    # In winter the two agree, so 928 at 17:30 Phoenix time is fine.
    "arizona-928-winter": window_case(
        "America/Phoenix", WINTER_DAY, (18, 0, 0), (17, 30, 0), number("928")
    ),
    # Oregon 541 spans Pacific and Mountain (Malheur County): 17:30 Pacific is 18:30 Mountain.
    "oregon-541-mountain": same_instant_case(
        local(LOS_ANGELES, WINTER_DAY, 17, 30), number("541"), number("503")
    ),
    # 458 overlays 541: it gets 541's Mountain zone although its own data lists only Pacific.
    "oregon-458-overlay": same_instant_case(
        local(LOS_ANGELES, WINTER_DAY, 17, 30), number("458"), number("503")
    ),
    # Alaska 907 includes Adak (an hour behind Anchorage): 10:30 Anchorage is 09:30 in Adak.
    "alaska-907-adak": window_case(
        "America/Anchorage", WINTER_DAY, (10, 30, 0), (11, 0, 0), number("907")
    ),
    # "Allowed countries | United States only": Canada shares +1.
    "canada-647": Case(
        R.NUMBER_NOT_US,
        lambda: one_dial(NOON, contact(phone=number("647"))),
        lambda: one_dial(NOON, contact(phone=number("212"))),
    ),
    "uk-number": Case(
        R.NUMBER_NOT_US,
        lambda: one_dial(NOON, contact(phone="+442071838750")),
        lambda: one_dial(NOON, contact(phone=number("212"))),
    ),
    "missing-number": Case(
        R.NUMBER_MISSING,
        lambda: one_dial(NOON, contact(phone=None)),
        lambda: one_dial(NOON, contact()),
    ),
    "invalid-area-code": Case(
        R.NUMBER_INVALID,
        lambda: one_dial(NOON, contact(phone="+12005550100")),
        lambda: one_dial(NOON, contact()),
    ),
    "not-e164": Case(
        R.NUMBER_INVALID,
        lambda: one_dial(NOON, contact(phone="2125550100")),
        lambda: one_dial(NOON, contact()),
    ),
    # Toll-free has no phone-number time zone. 21:00Z is inside every 50-state window (16:00 ET,
    # 11:00 in Hawaii and Adak), so the window does not add a second violation.
    "toll-free": Case(
        R.NUMBER_NOT_GEOGRAPHIC,
        lambda: one_dial(local(NEW_YORK, WINTER_DAY, 16), contact(phone="+18005550100")),
        lambda: one_dial(local(NEW_YORK, WINTER_DAY, 16), contact()),
    ),
    # "Calls per minute per location | 1", rolling: 59 s apart breaks it, 60 s does not.
    "pacing-59s": Case(
        R.LOCATION_PACING,
        lambda: paced(NOON, timedelta(seconds=59)),
        lambda: paced(NOON, timedelta(seconds=60)),
    ),
    "pacing-same-instant": Case(
        R.LOCATION_PACING,
        lambda: paced(NOON, timedelta(0)),
        lambda: paced(NOON, timedelta(minutes=5)),
    ),
    # "Calls per day per location | 100"
    "location-101-in-a-day": Case(
        R.LOCATION_DAILY_CAP,
        lambda: busy_day(NEW_YORK, local(NEW_YORK, WINTER_DAY, 10), 101),
        lambda: busy_day(NEW_YORK, local(NEW_YORK, WINTER_DAY, 10), 101, skip_day_for_last=True),
    ),
    # The location's calendar day, not UTC's: from 23:00Z the run crosses UTC midnight but stays
    # on one Los Angeles day (15:00-16:40 PST); a London location's day splits it at 00:00Z.
    "location-day-is-local": Case(
        R.LOCATION_DAILY_CAP,
        lambda: busy_day(LOS_ANGELES, datetime(2026, 1, 13, 23, tzinfo=UTC), 101),
        lambda: Log(
            busy_day(LOS_ANGELES, datetime(2026, 1, 13, 23, tzinfo=UTC), 101).dials,
            busy_day(LOS_ANGELES, datetime(2026, 1, 13, 23, tzinfo=UTC), 101).contacts,
            [location(1, "Europe/London")],
        ),
    ),
    # "Calls per day per phone number | 1", counted across the account's locations.
    "number-twice-a-day": Case(
        R.NUMBER_DAILY_CAP,
        lambda: twice(local(NEW_YORK, WINTER_DAY, 10), local(NEW_YORK, WINTER_DAY, 17, 59)),
        lambda: twice(local(NEW_YORK, WINTER_DAY, 17, 59), local(NEW_YORK, NEXT_DAY, 10)),
    ),
    # Same Los Angeles day though the UTC dates differ (15:30 and 16:30 PST) ...
    "number-day-is-local-across-utc-midnight": Case(
        R.NUMBER_DAILY_CAP,
        lambda: twice(
            datetime(2026, 1, 13, 23, 30, tzinfo=UTC),
            datetime(2026, 1, 14, 0, 30, tzinfo=UTC),
            zone=LOS_ANGELES,
            npa="310",
        ),
        # ... and two Honolulu days for an 808 number (17:59 on the 13th, 10:00 on the 14th)
        # though the UTC date is the same.
        lambda: twice(
            datetime(2026, 1, 14, 3, 59, tzinfo=UTC),
            datetime(2026, 1, 14, 20, 0, tzinfo=UTC),
            npa="808",
        ),
    ),
    # The contact's day (every candidate zone's), not the location's: 16:00 and 17:30 HST on
    # one Honolulu day are two days (23:00 and 00:30) for a Sao Paulo location ...
    "number-day-is-the-contacts": Case(
        R.NUMBER_DAILY_CAP,
        lambda: twice(
            datetime(2026, 1, 14, 2, 0, tzinfo=UTC),
            datetime(2026, 1, 14, 3, 30, tzinfo=UTC),
            zone="America/Sao_Paulo",
            npa="808",
        ),
        # ... and 17:59 and 10:00 HST on two Honolulu days are one day (00:59 and 17:00) there.
        lambda: twice(
            datetime(2026, 1, 14, 3, 59, tzinfo=UTC),
            datetime(2026, 1, 14, 20, 0, tzinfo=UTC),
            zone="America/Sao_Paulo",
            npa="808",
        ),
    ),
    # "Calls per phone number in any 14-day window | 4": the window is (t - 14 days, t].
    "fifth-in-14-days-minus-1s": Case(
        R.FOURTEEN_DAY_CAP,
        lambda: fourteen(datetime(2026, 1, 19, 15, 59, 59, tzinfo=UTC)),
        lambda: fourteen(datetime(2026, 1, 19, 16, 0, 0, tzinfo=UTC)),
    ),
    # "Documented opt-in ... via a CRM-hosted form" or manually confirmed written consent.
    "no-consent": Case(R.NO_CONSENT, with_consents(), with_consents((FORM, CONSENT_AT))),
    "consent-after-dial": Case(
        R.NO_CONSENT,
        with_consents((FORM, NOON + timedelta(seconds=1))),
        with_consents((FORM, NOON)),
    ),
    "import-needs-written-consent": Case(
        R.NO_CONSENT,
        with_consents(source=ContactSource.IMPORT),
        with_consents((MANUAL, CONSENT_AT), source=ContactSource.IMPORT),
    ),
    "sms-consent-is-not-voice-consent": Case(
        R.NO_CONSENT,
        with_consents((FORM, CONSENT_AT), channel=Channel.SMS),
        with_consents((FORM, CONSENT_AT)),
    ),
    "consent-revoked-before-dial": Case(
        R.CONSENT_REVOKED,
        with_consents((FORM, CONSENT_AT), (REVOKE, NOON - timedelta(hours=1))),
        with_consents((FORM, CONSENT_AT), (REVOKE, NOON + timedelta(seconds=1))),
    ),
    "revocation-at-the-consent-instant": Case(
        R.CONSENT_REVOKED,
        with_consents((FORM, CONSENT_AT), (REVOKE, CONSENT_AT)),
        with_consents((REVOKE, CONSENT_AT), (MANUAL, CONSENT_AT + timedelta(days=1))),
    ),
    # "No DND flag on the voice channel for that contact."
    "dnd-before-dial": Case(
        R.DND_VOICE,
        lambda: one_dial(NOON, contact(dnd_voice_since=NOON)),
        lambda: one_dial(NOON, contact(dnd_voice_since=NOON + timedelta(seconds=1))),
    ),
    # "No prior opt-out from the contact."
    "opt-out-voice": Case(
        R.OPTED_OUT,
        lambda: one_dial(NOON, contact(opted_out_at=NOON, opted_out_channel=Channel.VOICE)),
        lambda: one_dial(
            NOON, contact(opted_out_at=NOON + timedelta(1), opted_out_channel=Channel.VOICE)
        ),
    ),
    "opt-out-sms-covers-voice": Case(
        R.OPTED_OUT,
        lambda: one_dial(NOON, contact(opted_out_at=CONSENT_AT, opted_out_channel=Channel.SMS)),
        lambda: one_dial(
            NOON, contact(opted_out_at=NOON + timedelta(1), opted_out_channel=Channel.SMS)
        ),
    ),
    # Every channel: an email opt-out is a revocation "by any reasonable means" too.
    "opt-out-email-covers-voice": Case(
        R.OPTED_OUT,
        lambda: one_dial(NOON, contact(opted_out_at=CONSENT_AT, opted_out_channel=Channel.EMAIL)),
        lambda: one_dial(
            NOON, contact(opted_out_at=NOON + timedelta(1), opted_out_channel=Channel.EMAIL)
        ),
    ),
    # Consent and opt-outs belong to the number within the practice: another contact of the
    # account with the same number opted out, and no consent for the number came after.
    "number-suppressed-by-another-contact": Case(
        R.NUMBER_SUPPRESSED,
        lambda: shared_number(other_dnd=NOON - timedelta(hours=1), consent_after=None),
        lambda: shared_number(
            other_dnd=NOON - timedelta(hours=1), consent_after=NOON - timedelta(minutes=5)
        ),
    ),
    "consent-for-another-number": Case(
        R.NO_CONSENT,
        lambda: one_dial(
            NOON,
            contact(consents=(AuditedConsent(MANUAL, CONSENT_AT, phone_e164=number("312")),)),
        ),
        lambda: one_dial(NOON, contact(consents=(AuditedConsent(MANUAL, CONSENT_AT),))),
    ),
    "form-that-failed-the-scan": Case(
        R.NO_CONSENT,
        lambda: one_dial(
            NOON, contact(consents=(AuditedConsent(FORM, CONSENT_AT, form_valid=False),))
        ),
        lambda: one_dial(
            NOON, contact(consents=(AuditedConsent(FORM, CONSENT_AT, form_valid=True),))
        ),
    ),
    # A form opt-in counts only with the scan's verdict on record as passed: an unknown
    # verdict (None) is not a pass.
    "form-with-an-unknown-scan-verdict": Case(
        R.NO_CONSENT,
        lambda: one_dial(NOON, contact(consents=(AuditedConsent(FORM, CONSENT_AT),))),
        lambda: one_dial(NOON, contact(consents=(form_opt_in(CONSENT_AT),))),
    ),
    # Clearing a flag or removing the tag does not clear the opt-out: the number stays
    # suppressed until consent for it is recorded after the opt-out.
    "cleared-dnd-still-suppresses": cleared_opt_out_case(OptOutHow.DND_VOICE),
    "cleared-opt-out-flag-still-suppresses": cleared_opt_out_case(OptOutHow.OPT_OUT_FLAG),
    "removed-opt-out-tag-still-suppresses": cleared_opt_out_case(OptOutHow.OPT_OUT_TAG),
    "another-contacts-cleared-opt-out": cleared_opt_out_case(OptOutHow.OPT_OUT_FLAG, by_other=True),
    "another-contacts-tag-only-opt-out": cleared_opt_out_case(OptOutHow.OPT_OUT_TAG, by_other=True),
    # The opt-out belongs to the number, even after the contact who opted out changed numbers.
    "opt-out-of-another-contacts-former-number": cleared_opt_out_case(
        OptOutHow.DND_VOICE, by_other=True, former_number=True
    ),
    "opt-out-all-channels": Case(
        R.OPTED_OUT,
        lambda: one_dial(NOON, contact(opted_out_at=CONSENT_AT, opted_out_channel=None)),
        lambda: one_dial(NOON, contact(opted_out_at=None, opted_out_channel=None)),
    ),
    # "KYC approval is required" / "Outbound calling must be explicitly enabled".
    "kyc-not-approved": Case(
        R.KYC_NOT_APPROVED,
        lambda: one_dial(NOON, contact(), location(kyc_approved=False)),
        lambda: one_dial(NOON, contact(), location()),
    ),
    "outbound-disabled": Case(
        R.OUTBOUND_DISABLED,
        lambda: one_dial(NOON, contact(), location(outbound_enabled=False)),
        lambda: one_dial(NOON, contact(), location()),
    ),
    # A job dialed twice (on two days, so no per-number cap is involved).
    "dialed-twice": Case(
        R.DIALED_TWICE,
        lambda: Log(
            [dial(7, NOON, contact()), dial(7, NOON + timedelta(days=1), contact())],
            [contact()],
            [location()],
        ),
        lambda: Log(
            [dial(7, NOON, contact()), dial(8, NOON + timedelta(days=1), contact())],
            [contact()],
            [location()],
        ),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_rule_and_its_near_miss(case: Case) -> None:
    log = case.violating()
    report = audit_dials(log.dials, log.contacts, log.locations)
    last = max(log.dials, key=lambda d: (d.dialed_at, d.job_id))
    assert [(v.job_id, v.rule) for v in report.violations] == [(last.job_id, case.rule)], report

    log = case.near_miss()
    report = audit_dials(log.dials, log.contacts, log.locations)
    assert report.ok, report.violations


def test_every_rule_has_a_table_row() -> None:
    assert {case.rule for case in CASES.values()} == set(AuditRule)


def test_dnd_set_after_the_dial_is_no_violation() -> None:
    after = NOON + timedelta(hours=2)
    log = one_dial(NOON, contact(dnd_voice_since=after, opted_out_at=after))
    assert audit_dials(log.dials, log.contacts, log.locations).ok


def test_consent_given_again_after_a_revocation_counts() -> None:
    log = with_consents(
        (FORM, CONSENT_AT), (REVOKE, CONSENT_AT + timedelta(days=1)), (FORM, NOON)
    )()
    assert audit_dials(log.dials, log.contacts, log.locations).ok


def test_consent_at_the_opt_out_instant_does_not_lift_it() -> None:
    log = opted_out_earlier(OptOutHow.OPT_OUT_TAG, consent_after=NOON - timedelta(hours=1))
    report = audit_dials(log.dials, log.contacts, log.locations)
    assert [v.rule for v in report.violations] == [R.NUMBER_SUPPRESSED]


def test_an_opt_out_after_the_dial_is_no_violation() -> None:
    later = AuditedOptOut(NOON + timedelta(seconds=1), OptOutHow.OPT_OUT_TAG)
    log = one_dial(NOON, contact(opt_outs=(later,)))
    assert audit_dials(log.dials, log.contacts, log.locations).ok


def test_a_flag_in_force_is_reported_once_under_its_own_rule() -> None:
    """The history lists the DND in force too; it is reported as dnd_voice, not again as
    number_suppressed. An older opt-out of the contact's, since cleared, is then not reported
    again either (the dial is a violation once per cause found)."""
    since = NOON - timedelta(hours=1)
    history = (
        AuditedOptOut(since - timedelta(days=3), OptOutHow.OPT_OUT_FLAG),
        AuditedOptOut(since, OptOutHow.DND_VOICE),
    )
    log = one_dial(NOON, contact(dnd_voice_since=since, opt_outs=history))
    report = audit_dials(log.dials, log.contacts, log.locations)
    assert [v.rule for v in report.violations] == [R.DND_VOICE]


def test_cleared_dnd_then_new_consent_then_dnd_again() -> None:
    """DND on, off, consent recorded, a dial, DND on again: the dial is lawful."""
    first = NOON - timedelta(days=2)
    consents = (form_opt_in(CONSENT_AT), AuditedConsent(MANUAL, NOON - timedelta(days=1)))
    history = (
        AuditedOptOut(first, OptOutHow.DND_VOICE),
        AuditedOptOut(NOON + timedelta(hours=1), OptOutHow.DND_VOICE),
    )
    who = contact(consents=consents, dnd_voice_since=NOON + timedelta(hours=1), opt_outs=history)
    log = one_dial(NOON, who)
    assert audit_dials(log.dials, log.contacts, log.locations).ok
    late = one_dial(NOON + timedelta(hours=2), who)
    report = audit_dials(late.dials, late.contacts, late.locations)
    assert [v.rule for v in report.violations] == [R.DND_VOICE]


def test_number_scope_decides_whose_dials_count() -> None:
    log = twice(local(NEW_YORK, WINTER_DAY, 10), local(NEW_YORK, WINTER_DAY, 11))
    assert audit_dials(log.dials, log.contacts, log.locations, number_scope=NumberScope.LOCATION).ok
    other_account = [location(1), location(2, account_id=2)]
    assert audit_dials(log.dials, log.contacts, other_account).ok
    strict = audit_dials(log.dials, log.contacts, other_account, number_scope=NumberScope.PLATFORM)
    assert [(v.job_id, v.rule) for v in strict.violations] == [(2, R.NUMBER_DAILY_CAP)]


def test_fourteen_day_cap_checks_every_window() -> None:
    # Eight dials two days apart: every window of 14 days holds at most 7, so from the fifth
    # on each dial is the fifth of its own window.
    who = contact()
    first = local(NEW_YORK, WINTER_DAY, 12)
    dials = [dial(i, first + timedelta(days=2 * i), who) for i in range(9)]
    report = audit_dials(dials, [who], [location()])
    assert [(v.job_id, v.rule) for v in report.violations] == [
        (i, R.FOURTEEN_DAY_CAP) for i in range(4, 9)
    ]


def test_one_dial_can_break_several_rules_and_all_are_reported() -> None:
    who = contact(phone=number("541"), dnd_voice_since=CONSENT_AT, consents=())
    at = local(LOS_ANGELES, WINTER_DAY, 17, 30)
    report = audit_dials([dial(1, at, who)], [who], [location(kyc_approved=False)])
    assert [v.rule for v in report.violations] == [
        R.KYC_NOT_APPROVED,
        R.NO_CONSENT,
        R.DND_VOICE,
        R.OUTSIDE_WINDOW,
    ]
    assert "America/Denver" in report.violations[-1].detail
    assert report.count_by_rule() == dict.fromkeys(
        [R.KYC_NOT_APPROVED, R.NO_CONSENT, R.DND_VOICE, R.OUTSIDE_WINDOW], 1
    )
    assert report.violating_job_ids == {1}
    assert report.dials_checked == 1


def test_report_lists_dialed_twice_jobs() -> None:
    log = CASES["dialed-twice"].violating()
    report = audit_dials(log.dials, log.contacts, log.locations)
    assert report.dialed_twice == (7,)


def test_inputs_are_checked() -> None:
    who = contact()
    with pytest.raises(ValueError, match="unknown contact"):
        audit_dials([dial(1, NOON, contact(9))], [who], [location()])
    with pytest.raises(ValueError, match="unknown location"):
        audit_dials([dial(1, NOON, who, location_id=5)], [who], [location()])
    with pytest.raises(ValueError, match="given twice"):
        audit_dials([], [who, contact()], [location()])
    with pytest.raises(ValueError, match="timezone-aware"):
        dial(1, datetime(2026, 1, 13, 12), who)
    with pytest.raises(ValueError, match="window"):
        AuditLimits(window_start=PLATFORM_LIMITS.window_end)


# --- candidate zones -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("npa", "zones"),
    [
        ("212", {"America/New_York"}),
        ("602", {"America/Phoenix"}),
        ("928", {"America/Phoenix", "America/Denver"}),
        ("541", {"America/Los_Angeles", "America/Denver"}),
        ("458", {"America/Los_Angeles", "America/Denver"}),
        ("808", {"Pacific/Honolulu"}),
        ("270", {"America/New_York", "America/Chicago"}),
        ("364", {"America/New_York", "America/Chicago"}),
    ],
)
def test_zones_for_area_code(npa: str, zones: set[str]) -> None:
    assert zones_for_area_code(npa) == zones


def test_alaska_includes_adak() -> None:
    assert {"America/Anchorage", "America/Adak"} <= zones_for_area_code("907")


def test_unknown_area_code_gets_every_state_zone_and_overlays_share() -> None:
    assert zones_for_area_code("999") == FIFTY_STATES_ZONES
    assert zones_for_area_code("729") == zones_for_area_code("423") != FIFTY_STATES_ZONES


def test_extra_zones_widen_the_candidates() -> None:
    zones = candidate_zones(number("212"), frozenset({"America/Los_Angeles"}))
    assert zones == {"America/New_York", "America/Los_Angeles"}
    with pytest.raises(ValueError, match="NANP"):
        candidate_zones("+442071838750")


@pytest.mark.parametrize(
    ("phone", "problem"),
    [
        (number("212"), None),
        (None, R.NUMBER_MISSING),
        ("  ", R.NUMBER_MISSING),
        (number("647"), R.NUMBER_NOT_US),
        ("+17875550100", R.NUMBER_NOT_US),  # Puerto Rico
        ("+18885550100", R.NUMBER_NOT_GEOGRAPHIC),
        ("+19005550100", R.NUMBER_NOT_GEOGRAPHIC),
        ("+1212555010", R.NUMBER_INVALID),
        ("+4420", R.NUMBER_INVALID),
    ],
)
def test_number_problem(phone: str | None, problem: AuditRule | None) -> None:
    assert number_problem(phone) == problem


# --- the counting rules against a quadratic reference ----------------------------------------

SMALL = AuditLimits(
    pacing=timedelta(minutes=10),
    location_daily_cap=3,
    number_daily_cap=1,
    number_rolling_cap=2,
    number_rolling_window=timedelta(days=2),
)
COUNTING = {R.LOCATION_PACING, R.LOCATION_DAILY_CAP, R.NUMBER_DAILY_CAP, R.FOURTEEN_DAY_CAP}
ZONES = ["America/New_York", "America/Los_Angeles", "Asia/Tokyo", "America/Sao_Paulo"]


def reference(
    dials: list[AuditedDial], locations: dict[int, AuditedLocation]
) -> set[tuple[int, AuditRule]]:
    """Every counting rule by brute force over all pairs, in dial order."""
    order = sorted(dials, key=lambda d: (d.dialed_at, d.job_id))
    found: set[tuple[int, AuditRule]] = set()

    def day(d: AuditedDial, zone: str) -> date:
        return d.dialed_at.astimezone(ZoneInfo(zone)).date()

    for i, d in enumerate(order):
        zone = locations[d.location_id].time_zone
        account = locations[d.location_id].account_id
        # The number's days: its candidate zones' (the location's for an unusable number).
        phone = d.phone_e164
        number_zones = candidate_zones(phone) if phone and not number_problem(phone) else {zone}
        earlier = order[: i + 1]
        here = [e for e in earlier if e.location_id == d.location_id]
        same = [
            e
            for e in earlier
            if e.phone_e164 == d.phone_e164 and locations[e.location_id].account_id == account
        ]
        if any(d.dialed_at - e.dialed_at < SMALL.pacing for e in here[:-1]):
            found.add((d.job_id, R.LOCATION_PACING))
        if sum(day(e, zone) == day(d, zone) for e in here) > SMALL.location_daily_cap:
            found.add((d.job_id, R.LOCATION_DAILY_CAP))
        if any(
            sum(day(e, z) == day(d, z) for e in same) > SMALL.number_daily_cap for z in number_zones
        ):
            found.add((d.job_id, R.NUMBER_DAILY_CAP))
        window = [e for e in same if e.dialed_at > d.dialed_at - SMALL.number_rolling_window]
        if len(window) > SMALL.number_rolling_cap:
            found.add((d.job_id, R.FOURTEEN_DAY_CAP))
    return found


@settings(max_examples=150, deadline=None)
@given(
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3),
    accounts=st.lists(st.integers(1, 2), min_size=3, max_size=3),
    events=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 5 * 24 * 60)),
        max_size=40,
    ),
)
def test_counting_rules_match_a_quadratic_reference(
    zones: list[str], accounts: list[int], events: list[tuple[int, int, int]]
) -> None:
    locations = {i: location(i, zone, account_id=accounts[i]) for i, zone in enumerate(zones)}
    # New York, Honolulu, and two multi-zone area codes (Los Angeles + Denver; Alaska's four).
    people = [
        contact(i, number(npa, 100 + i)) for i, npa in enumerate(("212", "808", "541", "907"))
    ]
    start = datetime(2026, 3, 6, tzinfo=UTC)  # spans the spring DST change
    dials = [
        dial(job, start + timedelta(minutes=minute), people[who], location_id=where % len(zones))
        for job, (where, who, minute) in enumerate(events)
    ]
    report = audit_dials(dials, people, locations.values(), limits=SMALL)
    got = {(v.job_id, v.rule) for v in report.violations if v.rule in COUNTING}
    assert got == reference(dials, locations)
