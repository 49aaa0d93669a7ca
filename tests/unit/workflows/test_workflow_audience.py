"""The audience filters (domain/workflows/audience.py): the product description's "Build your
workflow audiences carefully", one filter at a time, then all failing at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.tags import COMPLAINT_TAG, OPT_OUT_TAG, QA_TEST_TAG
from ringfence.domain.vocabulary import AppointmentStatus
from ringfence.domain.workflows.audience import ContactView, admit
from ringfence.domain.workflows.definition import Audience
from ringfence.domain.workflows.timing import AppointmentView

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)

# Passes the default audience: CRM-form consent, no DND, no opt-out, no complaint.
GOOD = ContactView(
    contact_id=1,
    tags=frozenset({"Botox"}),
    has_crm_form_consent=True,
    dnd_voice=False,
    opted_out=False,
    last_contacted_at=None,
    has_upcoming_appointment=False,
    opportunity_stages=frozenset(),
)


def _appointment(status: AppointmentStatus) -> AppointmentView:
    return AppointmentView(id=9, starts_at=NOW + timedelta(days=2), status=status, service="Botox")


def _reasons(audience: Audience, contact: ContactView, *, test_mode: bool = False) -> list[str]:
    admission = admit(audience, contact, NOW, test_mode=test_mode)
    assert admission.admitted is (not admission.reasons)
    assert admission.summary == "; ".join(admission.reasons)
    return list(admission.reasons)


def test_the_default_audience_admits_a_consented_contact() -> None:
    assert _reasons(Audience(), GOOD) == []


@pytest.mark.parametrize(
    ("audience", "contact", "reason"),
    [
        (Audience(has_tags=("Botox", "VIP")), GOOD, "lacks tag 'VIP'"),
        (Audience(lacks_tags=("Botox",)), GOOD, "has tag 'Botox'"),
        (
            Audience(),
            replace(GOOD, has_crm_form_consent=False),
            "no opt-in through a CRM-hosted form",
        ),
        (Audience(), replace(GOOD, dnd_voice=True), "DND is set on the voice channel"),
        (
            Audience(),
            replace(GOOD, tags=frozenset({OPT_OUT_TAG})),
            f"has the opt-out tag {OPT_OUT_TAG!r}",
        ),
        (
            Audience(),
            replace(GOOD, tags=frozenset({COMPLAINT_TAG})),
            f"has the complaint tag {COMPLAINT_TAG!r}",
        ),
        (
            Audience(opportunity_stages=("Consult Booked", "Quoted")),
            replace(GOOD, opportunity_stages=frozenset({"New Lead"})),
            "no opportunity in stage 'Consult Booked' / 'Quoted'",
        ),
        (Audience(has_upcoming_appointment=True), GOOD, "no upcoming appointment"),
        (
            Audience(has_upcoming_appointment=False),
            replace(GOOD, has_upcoming_appointment=True),
            "already has an upcoming appointment",
        ),
    ],
)
def test_each_filter_names_its_failure(
    audience: Audience, contact: ContactView, reason: str
) -> None:
    assert _reasons(audience, contact) == [reason]


@pytest.mark.parametrize(
    ("audience", "contact"),
    [
        (Audience(has_tags=("Botox",)), GOOD),
        (Audience(lacks_tags=("VIP",)), GOOD),
        (
            Audience(opportunity_stages=("Quoted",)),
            replace(GOOD, opportunity_stages=frozenset({"Quoted", "New"})),
        ),
        (Audience(has_upcoming_appointment=True), replace(GOOD, has_upcoming_appointment=True)),
        (Audience(has_upcoming_appointment=False), GOOD),
    ],
)
def test_each_filter_admits_when_met(audience: Audience, contact: ContactView) -> None:
    assert _reasons(audience, contact) == []


@pytest.mark.parametrize(
    ("audience", "contact"),
    [
        (Audience(require_crm_form_consent=False), replace(GOOD, has_crm_form_consent=False)),
        (Audience(exclude_voice_dnd=False), replace(GOOD, dnd_voice=True)),
        (Audience(exclude_opt_out_tag=False), replace(GOOD, tags=frozenset({OPT_OUT_TAG}))),
        (Audience(exclude_complaint_tag=False), replace(GOOD, tags=frozenset({COMPLAINT_TAG}))),
    ],
)
def test_the_default_exclusions_can_be_switched_off(
    audience: Audience, contact: ContactView
) -> None:
    assert _reasons(audience, contact) == []


@pytest.mark.parametrize(
    ("ago", "admitted"),
    [
        (timedelta(days=14) - SECOND, False),
        (timedelta(days=14), False),
        (timedelta(days=14) + SECOND, True),
        (timedelta(hours=3), False),
        (timedelta(days=400), True),
    ],
)
def test_last_contacted_more_than_n_days_at_the_boundary(ago: timedelta, admitted: bool) -> None:
    contact = replace(GOOD, last_contacted_at=NOW - ago)
    reasons = _reasons(Audience(last_contacted_more_than_days=14), contact)
    assert (reasons == []) is admitted
    if not admitted:
        [reason] = reasons
        assert reason.startswith("last contacted ")
        assert reason.endswith("(the filter wants more than 14 days)")


def test_last_contacted_reason_says_how_long_ago() -> None:
    audience = Audience(last_contacted_more_than_days=14)
    recent = replace(GOOD, last_contacted_at=NOW - timedelta(hours=3))
    assert _reasons(audience, recent) == [
        "last contacted 3 hour(s) ago (the filter wants more than 14 days)"
    ]
    older = replace(GOOD, last_contacted_at=NOW - timedelta(days=5, hours=2))
    assert _reasons(audience, older) == [
        "last contacted 5 day(s) ago (the filter wants more than 14 days)"
    ]


def test_never_contacted_passes_the_last_contacted_filter() -> None:
    assert _reasons(Audience(last_contacted_more_than_days=1), GOOD) == []


@settings(max_examples=300, deadline=None)
@given(days=st.integers(min_value=1, max_value=3650), ago=st.integers(0, 3651 * 86_400))
def test_last_contacted_filter_is_strictly_more_than_n_days(days: int, ago: int) -> None:
    contact = replace(GOOD, last_contacted_at=NOW - timedelta(seconds=ago))
    admitted = admit(Audience(last_contacted_more_than_days=days), contact, NOW, test_mode=False)
    assert admitted.admitted is (ago > days * 86_400)


@pytest.mark.parametrize("status", list(AppointmentStatus))
def test_appointment_status_filter(status: AppointmentStatus) -> None:
    audience = Audience(
        appointment_statuses=(AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
    )
    contact = replace(GOOD, appointment=_appointment(status))
    reasons = _reasons(audience, contact)
    if status in (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED):
        assert reasons == []
    else:
        assert reasons == [
            f"the appointment is {status.value} (the filter wants scheduled, confirmed)"
        ]


def test_appointment_status_filter_without_an_appointment() -> None:
    reasons = _reasons(Audience(appointment_statuses=(AppointmentStatus.SCHEDULED,)), GOOD)
    assert reasons == ["there is no appointment (the filter wants scheduled)"]


def test_test_mode_requires_the_qa_tag() -> None:
    assert _reasons(Audience(), GOOD, test_mode=True) == [
        f"test mode: only contacts tagged {QA_TEST_TAG!r} are enrolled"
    ]
    tester = replace(GOOD, tags=frozenset({QA_TEST_TAG}))
    assert _reasons(Audience(), tester, test_mode=True) == []
    # Outside test mode the QA tag is no requirement.
    assert _reasons(Audience(), GOOD, test_mode=False) == []


LOOSEST = Audience(
    require_crm_form_consent=False,
    exclude_voice_dnd=False,
    exclude_opt_out_tag=False,
    exclude_complaint_tag=False,
)


@settings(max_examples=200, deadline=None)
@given(
    tags=st.frozensets(st.sampled_from(["Botox", QA_TEST_TAG, OPT_OUT_TAG, COMPLAINT_TAG])),
    consent=st.booleans(),
    dnd=st.booleans(),
    upcoming=st.booleans(),
    test_mode=st.booleans(),
    audience=st.sampled_from([Audience(), LOOSEST]),
)
def test_an_opted_out_contact_is_never_admitted(
    tags: frozenset[str],
    consent: bool,
    dnd: bool,
    upcoming: bool,
    test_mode: bool,
    audience: Audience,
) -> None:
    contact = replace(
        GOOD,
        tags=tags,
        has_crm_form_consent=consent,
        dnd_voice=dnd,
        opted_out=True,
        has_upcoming_appointment=upcoming,
    )
    admission = admit(audience, contact, NOW, test_mode=test_mode)
    assert not admission.admitted
    assert admission.reasons[0] == "the contact opted out"


def test_every_failing_filter_is_reported_in_order() -> None:
    audience = Audience(
        has_tags=("VIP",),
        lacks_tags=("Botox",),
        last_contacted_more_than_days=30,
        appointment_statuses=(AppointmentStatus.SCHEDULED,),
        opportunity_stages=("Quoted",),
        has_upcoming_appointment=True,
    )
    contact = ContactView(
        contact_id=2,
        tags=frozenset({"Botox", OPT_OUT_TAG, COMPLAINT_TAG}),
        has_crm_form_consent=False,
        dnd_voice=True,
        opted_out=True,
        last_contacted_at=NOW - timedelta(days=2),
        has_upcoming_appointment=False,
        opportunity_stages=frozenset(),
        appointment=_appointment(AppointmentStatus.CANCELED),
    )
    assert _reasons(audience, contact, test_mode=True) == [
        "the contact opted out",
        f"test mode: only contacts tagged {QA_TEST_TAG!r} are enrolled",
        "lacks tag 'VIP'",
        "has tag 'Botox'",
        "no opt-in through a CRM-hosted form",
        "DND is set on the voice channel",
        f"has the opt-out tag {OPT_OUT_TAG!r}",
        f"has the complaint tag {COMPLAINT_TAG!r}",
        "last contacted 2 day(s) ago (the filter wants more than 30 days)",
        "the appointment is canceled (the filter wants scheduled)",
        "no opportunity in stage 'Quoted'",
        "no upcoming appointment",
    ]
