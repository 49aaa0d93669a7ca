"""KYC registration for outbound calling: what a practice must tell us, how it is checked,
and the states it moves through. Pure: no I/O, no clock.

"Before enabling this feature, your account must complete a KYC (Know Your Customer)
approval" — and inbound access does not imply outbound. The registration stays valid while
the legal name, the EIN and the ownership are unchanged (`material_fingerprint`); changing
any of them sends it back for review and pauses outbound calling until it is approved again.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ringfence.domain.vocabulary import CallPurpose, KycStatus

MAX_OWNERS: Final = 10
MAX_DAILY_VOLUME: Final = 10_000
# The IRS assigns EINs with these two-digit prefixes only (campus/internet/SBA prefixes);
# anything else is a typo, not a real EIN.
_EIN_PREFIXES: Final = frozenset(
    [f"{n:02d}" for n in (*range(1, 7), *range(10, 17), *range(20, 28), *range(30, 49))]
    + [f"{n:02d}" for n in (*range(50, 69), *range(71, 78), *range(80, 89), *range(90, 96))]
    + ["98", "99"]
)
_EIN: Final = re.compile(r"^(\d{2})-?(\d{7})$")
_STATE: Final = re.compile(r"^[A-Z]{2}$")
_POSTAL: Final = re.compile(r"^\d{5}(-\d{4})?$")
_URL: Final = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]{2,}$", re.IGNORECASE)
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_US_STATES: Final = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
    ]
)
CONTROL_THRESHOLD: Final = 25.0  # a beneficial owner holds 25 % or more


@dataclass(frozen=True, slots=True)
class Address:
    street: str
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True, slots=True)
class Owner:
    name: str
    title: str
    ownership_percent: float
    control_person: bool = False  # e.g. the CEO or managing member, whatever their share


@dataclass(frozen=True, slots=True)
class Representative:
    name: str
    title: str
    email: str
    phone_e164: str


@dataclass(frozen=True, slots=True)
class KycApplication:
    legal_name: str
    dba: str
    ein: str
    address: Address
    website: str
    owners: tuple[Owner, ...]
    representative: Representative
    use_cases: tuple[CallPurpose, ...]
    expected_daily_volume: int


@dataclass(frozen=True, slots=True)
class Problem:
    """A field (as the API names it) and what is wrong with it."""

    field: str
    message: str


def normalized_ein(ein: str) -> str:
    """ "12-3456789" for any accepted spelling (dash optional)."""
    digits = ein.strip().replace("-", "")
    return f"{digits[:2]}-{digits[2:]}"


def validate(application: KycApplication) -> tuple[Problem, ...]:
    """Every problem at once (so the form shows them all), in the form's order."""
    problems: list[Problem] = []
    add = problems.append
    if not application.legal_name.strip():
        add(Problem("legal_name", "the business's legal name is required"))
    ein = _EIN.match(application.ein.strip())
    if ein is None:
        add(Problem("ein", "an EIN is 9 digits, written 12-3456789"))
    elif ein.group(1) not in _EIN_PREFIXES:
        add(Problem("ein", f"no EIN starts with {ein.group(1)}: check the number"))
    address = application.address
    if not address.street.strip():
        add(Problem("address.street", "required"))
    if not address.city.strip():
        add(Problem("address.city", "required"))
    if not _STATE.match(address.state) or address.state not in _US_STATES:
        add(Problem("address.state", "a US state's two-letter code, e.g. NY"))
    if not _POSTAL.match(address.postal_code.strip()):
        add(Problem("address.postal_code", "a US ZIP code: 12345 or 12345-6789"))
    if not _URL.match(application.website.strip()):
        add(Problem("website", "the practice's website, starting with https://"))
    problems += _owner_problems(application.owners)
    rep = application.representative
    if not rep.name.strip():
        add(Problem("representative.name", "required"))
    if not rep.title.strip():
        add(Problem("representative.title", "required"))
    if not _EMAIL.match(rep.email.strip()):
        add(Problem("representative.email", "an email address"))
    if not re.fullmatch(r"\+1\d{10}", rep.phone_e164):
        add(Problem("representative.phone_e164", "a US phone number in E.164, +12125550100"))
    if not application.use_cases:
        add(Problem("use_cases", "choose at least one intended use case"))
    if not 1 <= application.expected_daily_volume <= MAX_DAILY_VOLUME:
        add(Problem("expected_daily_volume", f"between 1 and {MAX_DAILY_VOLUME:,} calls a day"))
    problems += _length_problems(application)
    return tuple(problems)


# What each text field holds at most (the registration's columns and the API's schema): a
# longer value is refused here, with every other problem, never stored to fail on reading.
_MAX_LENGTHS: Final = {
    "legal_name": 200,
    "dba": 200,
    "address.street": 200,
    "address.city": 100,
    "website": 300,
    "representative.name": 200,
    "representative.title": 200,
    "representative.email": 200,
}
_OWNER_MAX_LENGTH: Final = 200  # an owner's name and title


def _length_problems(application: KycApplication) -> list[Problem]:
    rep, address = application.representative, application.address
    values = {
        "legal_name": application.legal_name,
        "dba": application.dba,
        "address.street": address.street,
        "address.city": address.city,
        "website": application.website,
        "representative.name": rep.name,
        "representative.title": rep.title,
        "representative.email": rep.email,
    }
    fields = [(name, value, _MAX_LENGTHS[name]) for name, value in values.items()]
    for index, owner in enumerate(application.owners):
        fields.append((f"owners[{index}].name", owner.name, _OWNER_MAX_LENGTH))
        fields.append((f"owners[{index}].title", owner.title, _OWNER_MAX_LENGTH))
    return [
        Problem(name, f"at most {limit} characters (this has {len(value)})")
        for name, value, limit in fields
        if len(value) > limit
    ]


def _owner_problems(owners: tuple[Owner, ...]) -> list[Problem]:
    if not owners:
        return [Problem("owners", "list the owners and officers (at least one)")]
    if len(owners) > MAX_OWNERS:
        return [Problem("owners", f"at most {MAX_OWNERS} owners and officers")]
    problems: list[Problem] = []
    for index, owner in enumerate(owners):
        if not owner.name.strip():
            problems.append(Problem(f"owners[{index}].name", "required"))
        if not 0 <= owner.ownership_percent <= 100:
            problems.append(
                Problem(f"owners[{index}].ownership_percent", "a percentage from 0 to 100")
            )
    total = sum(owner.ownership_percent for owner in owners)
    if total > 100.0001:
        problems.append(Problem("owners", f"ownership adds up to {total:g} %, more than 100 %"))
    if not any(
        owner.control_person or owner.ownership_percent >= CONTROL_THRESHOLD for owner in owners
    ):
        problems.append(
            Problem(
                "owners",
                f"name at least one owner with {CONTROL_THRESHOLD:g} % or more, or a control "
                "person (who directs the business, e.g. the CEO or managing member)",
            )
        )
    return problems


def material_fingerprint(application: KycApplication) -> str:
    """What approval vouches for: the legal name, the EIN and the ownership. Any change to
    these (not to the address, website or representative) needs a new review."""
    owners = sorted(
        (" ".join(o.name.lower().split()), round(o.ownership_percent, 4), o.control_person)
        for o in application.owners
    )
    material = {
        "legal_name": " ".join(application.legal_name.lower().split()),
        "ein": application.ein.strip().replace("-", ""),
        "owners": owners,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


class ReviewOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_CHANGES = "needs_changes"


@dataclass(frozen=True, slots=True)
class AutoReview:
    """The platform's own review of a submission: approve it, or leave it for an operator
    with the reasons why it could not be approved automatically."""

    approve: bool
    reasons: tuple[str, ...]


def auto_review(problems: tuple[Problem, ...], consent_problems: tuple[str, ...]) -> AutoReview:
    """Approved automatically when the data validates and the consent scan passes."""
    reasons = tuple(f"{p.field}: {p.message}" for p in problems) + consent_problems
    return AutoReview(approve=not reasons, reasons=reasons)


# The moves a registration may make, and who makes them.
_MOVES: Final = {
    (KycStatus.NOT_STARTED, KycStatus.SUBMITTED),
    (KycStatus.NEEDS_CHANGES, KycStatus.SUBMITTED),
    (KycStatus.REJECTED, KycStatus.SUBMITTED),
    (KycStatus.SUBMITTED, KycStatus.SUBMITTED),  # edited while waiting for review
    (KycStatus.APPROVED, KycStatus.SUBMITTED),  # a material change: reviewed again
    (KycStatus.SUBMITTED, KycStatus.APPROVED),
    (KycStatus.SUBMITTED, KycStatus.REJECTED),
    (KycStatus.SUBMITTED, KycStatus.NEEDS_CHANGES),
}


class KycMoveRefused(ValueError):
    pass


def check_move(current: KycStatus, target: KycStatus) -> None:
    if (current, target) not in _MOVES:
        raise KycMoveRefused(
            f"a registration that is {current.value.replace('_', ' ')} cannot become "
            f"{target.value.replace('_', ' ')}"
        )


def after_edit(
    current: KycStatus, approved_fingerprint: str | None, application: KycApplication
) -> KycStatus:
    """The status an edit leaves: an approved registration stays approved unless the legal
    name, EIN or ownership changed; anything else goes (back) to submitted for review."""
    if current is KycStatus.APPROVED and approved_fingerprint == material_fingerprint(application):
        return KycStatus.APPROVED
    return KycStatus.SUBMITTED
