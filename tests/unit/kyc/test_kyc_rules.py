"""KYC registration rules: field checks, ownership, what counts as a material change, and
the state machine."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.domain.kyc import (
    Address,
    KycApplication,
    KycMoveRefused,
    Owner,
    Representative,
    after_edit,
    auto_review,
    check_move,
    material_fingerprint,
    normalized_ein,
    validate,
)
from ringfence.domain.vocabulary import CallPurpose, KycStatus

GOOD = KycApplication(
    legal_name="Glow Aesthetics LLC",
    dba="Glow Med Spa",
    ein="12-3456789",
    address=Address("10 Park Ave", "New York", "NY", "10016"),
    website="https://glow.example.com",
    owners=(Owner("Dana Reyes", "Managing member", 60.0), Owner("Sam Lee", "Member", 40.0)),
    representative=Representative(
        "Dana Reyes", "Managing member", "dana@glow.example.com", "+12125550100"
    ),
    use_cases=(CallPurpose.APPOINTMENT_CONFIRMATION, CallPurpose.NO_SHOW_RECOVERY),
    expected_daily_volume=120,
)


def fields(application: KycApplication) -> list[str]:
    return [problem.field for problem in validate(application)]


def test_a_complete_application_has_no_problem() -> None:
    assert validate(GOOD) == ()


@pytest.mark.parametrize(
    ("ein", "ok"),
    [
        ("12-3456789", True),
        ("123456789", True),
        ("00-1234567", False),  # no EIN starts with 00
        ("07-1234567", False),  # nor 07
        ("12-345678", False),
        ("12 3456789", False),
        ("AB-1234567", False),
    ],
)
def test_the_ein_is_format_checked(ein: str, ok: bool) -> None:
    assert ("ein" not in fields(dataclasses.replace(GOOD, ein=ein))) is ok


def test_ownership_may_not_exceed_100_percent() -> None:
    owners = (Owner("A", "", 70.0), Owner("B", "", 40.0))
    assert "owners" in fields(dataclasses.replace(GOOD, owners=owners))


def test_someone_must_hold_25_percent_or_control_the_business() -> None:
    small = tuple(Owner(f"Partner {i}", "", 20.0) for i in range(5))
    assert "owners" in fields(dataclasses.replace(GOOD, owners=small))
    with_control = (*small[:4], Owner("Chief", "CEO", 0.0, control_person=True))
    assert "owners" not in fields(dataclasses.replace(GOOD, owners=with_control))


def test_every_problem_is_reported_at_once_with_its_field() -> None:
    bad = dataclasses.replace(
        GOOD,
        legal_name=" ",
        ein="1",
        address=Address("", "", "XX", "ABCDE"),
        website="glow",
        use_cases=(),
        expected_daily_volume=0,
        representative=Representative("", "", "nope", "212"),
    )
    assert fields(bad) == [
        "legal_name",
        "ein",
        "address.street",
        "address.city",
        "address.state",
        "address.postal_code",
        "website",
        "representative.name",
        "representative.title",
        "representative.email",
        "representative.phone_e164",
        "use_cases",
        "expected_daily_volume",
    ]


def test_the_legal_name_ein_and_ownership_are_material_nothing_else_is() -> None:
    base = material_fingerprint(GOOD)
    assert material_fingerprint(dataclasses.replace(GOOD, website="https://new.example")) == base
    assert material_fingerprint(dataclasses.replace(GOOD, dba="Glow")) == base
    assert material_fingerprint(dataclasses.replace(GOOD, owners=GOOD.owners[::-1])) == base
    assert material_fingerprint(dataclasses.replace(GOOD, ein="123456789")) == base
    assert material_fingerprint(dataclasses.replace(GOOD, legal_name="Glow Aesthetics")) != base
    assert material_fingerprint(dataclasses.replace(GOOD, ein="12-3456788")) != base
    shares = (Owner("Dana Reyes", "Managing member", 51.0), Owner("Sam Lee", "Member", 49.0))
    assert material_fingerprint(dataclasses.replace(GOOD, owners=shares)) != base


@given(st.sampled_from(["  glow aesthetics llc ", "GLOW AESTHETICS LLC", "Glow   Aesthetics LLC"]))
def test_spacing_and_case_of_the_legal_name_are_not_a_change(name: str) -> None:
    assert material_fingerprint(dataclasses.replace(GOOD, legal_name=name)) == (
        material_fingerprint(GOOD)
    )


def test_an_approved_registration_stays_approved_only_without_a_material_change() -> None:
    approved = material_fingerprint(GOOD)
    assert after_edit(KycStatus.APPROVED, approved, GOOD) is KycStatus.APPROVED
    renamed = dataclasses.replace(GOOD, legal_name="Glow Holdings LLC")
    assert after_edit(KycStatus.APPROVED, approved, renamed) is KycStatus.SUBMITTED
    assert after_edit(KycStatus.REJECTED, approved, GOOD) is KycStatus.SUBMITTED


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (KycStatus.NOT_STARTED, KycStatus.SUBMITTED, True),
        (KycStatus.NOT_STARTED, KycStatus.APPROVED, False),
        (KycStatus.SUBMITTED, KycStatus.APPROVED, True),
        (KycStatus.SUBMITTED, KycStatus.REJECTED, True),
        (KycStatus.SUBMITTED, KycStatus.NEEDS_CHANGES, True),
        (KycStatus.NEEDS_CHANGES, KycStatus.SUBMITTED, True),
        (KycStatus.NEEDS_CHANGES, KycStatus.APPROVED, False),
        (KycStatus.REJECTED, KycStatus.SUBMITTED, True),
        (KycStatus.REJECTED, KycStatus.APPROVED, False),
        (KycStatus.APPROVED, KycStatus.SUBMITTED, True),
        (KycStatus.APPROVED, KycStatus.REJECTED, False),
    ],
)
def test_the_state_machine(current: KycStatus, target: KycStatus, allowed: bool) -> None:
    if allowed:
        check_move(current, target)
    else:
        with pytest.raises(KycMoveRefused):
            check_move(current, target)


def test_automatic_review_approves_only_without_reasons() -> None:
    assert auto_review((), ()).approve
    review = auto_review((), ("form 3 is not valid for outbound opt-in",))
    assert not review.approve
    assert review.reasons == ("form 3 is not valid for outbound opt-in",)


def test_the_ein_is_stored_in_one_spelling() -> None:
    assert normalized_ein("123456789") == "12-3456789"
    assert normalized_ein(" 12-3456789 ") == "12-3456789"
