"""A realistic synthetic population for the dispatcher simulation, written in bulk.

Practices spread over every US time zone; patients whose numbers come mostly from their
practice's area codes and partly from anywhere (multi-zone and overlay codes included, plus a
few Canadian numbers and missing numbers); mixed consent (CRM forms, manual written consent,
none, revoked), DND and opt-outs; appointments. Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import insert
from sqlalchemy.orm import Session

from ringfence.adapters.db import orm
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.vocabulary import (
    CallPurpose,
    Channel,
    ConsentKind,
    ContactSource,
    KycStatus,
)
from ringfence.services.call_jobs import CallRequest, enqueue_calls

# Practice zones and the area codes their patients mostly have.
PRACTICE_ZONES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("America/New_York", 0.38, ("212", "646", "718", "305", "404", "617", "215", "313")),
    ("America/Chicago", 0.27, ("312", "713", "214", "512", "615", "314", "504", "612")),
    ("America/Denver", 0.10, ("303", "720", "801", "505", "406")),
    ("America/Phoenix", 0.05, ("602", "480", "520", "623")),
    ("America/Los_Angeles", 0.18, ("213", "310", "415", "206", "503", "702", "619")),
    ("America/Anchorage", 0.01, ("907",)),
    ("Pacific/Honolulu", 0.01, ("808",)),
)
# Numbers from anywhere: multi-zone and overlay area codes the gate must get right.
ANYWHERE = (
    "541", "458", "208", "986", "928", "907", "808", "270", "364", "850", "448", "605",
    "701", "308", "785", "620", "812", "930", "423", "906", "775", "915", "202", "617",
)  # fmt: skip
MARKETING = (
    CallPurpose.CONSULT_FOLLOW_UP,
    CallPurpose.TREATMENT_REMINDER,
    CallPurpose.LEAD_REACTIVATION,
)


@dataclass(frozen=True, slots=True)
class PopulationSpec:
    locations: int
    contacts_per_location: int
    seed: int = 1
    locations_per_account: int = 10
    marketing_share: float = 0.3


@dataclass(frozen=True, slots=True)
class Population:
    accounts: int
    locations: int
    contacts: int
    jobs: int


def _phone(rng: random.Random, area_code: str, taken: set[str], region: str = "US") -> str:
    for _attempt in range(1000):
        number = f"+1{area_code}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        if number in taken:
            continue
        parsed = phonenumbers.parse(number, None)
        if (
            phonenumbers.is_valid_number(parsed)
            and phonenumbers.region_code_for_number(parsed) == region
        ):
            taken.add(number)
            return number
    raise RuntimeError(f"no valid number found for area code {area_code}")


def populate(
    session: Session,
    spec: PopulationSpec,
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> Population:
    """Create the population and enqueue one call job per contact (committing per location
    batch), through the same `enqueue_calls` service a workflow step uses."""
    rng = random.Random(spec.seed)
    zones = [z for z, _w, _c in PRACTICE_ZONES]
    weights = [w for _z, w, _c in PRACTICE_ZONES]
    codes = {z: c for z, _w, c in PRACTICE_ZONES}
    taken: set[str] = set()
    accounts = jobs = contacts = 0
    account_id = 0
    for index in range(spec.locations):
        if index % spec.locations_per_account == 0:
            account = orm.Account(
                name=f"Practice group {index // spec.locations_per_account + 1}",
                kyc_status=KycStatus.APPROVED,
                outbound_enabled=True,
                created_at=now,
                updated_at=now,
            )
            session.add(account)
            session.flush()
            account_id = account.id
            accounts += 1
        zone = rng.choices(zones, weights)[0]
        location = orm.Location(
            account_id=account_id,
            name=f"Location {index + 1}",
            time_zone=zone,
            created_at=now,
            updated_at=now,
        )
        session.add(location)
        session.flush()
        agent = orm.VoiceAgent(
            account_id=account_id,
            location_id=location.id,
            name="Front desk",
            practice_name=f"Practice {index + 1}",
            created_at=now,
            updated_at=now,
        )
        number = orm.PhoneNumber(
            account_id=account_id,
            location_id=location.id,
            e164=_phone(rng, rng.choice(codes[zone]), taken),
            created_at=now,
            updated_at=now,
        )
        session.add_all([agent, number])
        session.flush()
        rows = [
            _contact(rng, account_id, location.id, codes[zone], taken, now)
            for _ in range(spec.contacts_per_location)
        ]
        ids = list(
            session.scalars(
                insert(orm.Contact).returning(orm.Contact.id, sort_by_parameter_order=True),
                [row for row, _consent in rows],
            )
        )
        consents = [
            {
                **consent,
                "contact_id": contact_id,
                "account_id": account_id,
                "location_id": location.id,
                "phone_e164": row["phone_e164"],
            }
            for contact_id, (row, consent_list) in zip(ids, rows, strict=True)
            for consent in consent_list
        ]
        if consents:
            session.execute(insert(orm.ConsentRecord), consents)
        # Every opt-out path suppresses the number for the practice (services/suppression.py):
        # the population writes the same entries for its opted-out, DND and revoked contacts.
        suppressions = [
            _suppression(account_id, contact_id, row, consent_list, now)
            for contact_id, (row, consent_list) in zip(ids, rows, strict=True)
        ]
        entries = [entry for entry in suppressions if entry is not None]
        if entries:
            session.execute(insert(orm.NumberSuppression), entries)
        requests = [
            CallRequest(
                contact_id=contact_id,
                purpose=rng.choice(MARKETING)
                if rng.random() < spec.marketing_share
                else CallPurpose.APPOINTMENT_CONFIRMATION,
                agent_id=agent.id,
                from_number_id=number.id,
                action_name="Simulated call",
            )
            for contact_id in ids
        ]
        jobs += len(enqueue_calls(session, account_id=account_id, requests=requests, now=now))
        contacts += len(ids)
        session.commit()
        if progress is not None:
            progress(index + 1)
    return Population(accounts=accounts, locations=spec.locations, contacts=contacts, jobs=jobs)


def _contact(
    rng: random.Random,
    account_id: int,
    location_id: int,
    local_codes: tuple[str, ...],
    taken: set[str],
    now: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    roll = rng.random()
    if roll < 0.005:
        phone = None
    elif roll < 0.01:
        phone = _phone(rng, "647", taken, region="CA")
    elif roll < 0.16:
        phone = _phone(rng, rng.choice(ANYWHERE), taken)
    else:
        phone = _phone(rng, rng.choice(local_codes), taken)
    created = now - timedelta(days=rng.randint(5, 400))
    consent_roll = rng.random()
    source = ContactSource.FORM
    consents: list[dict[str, Any]] = []
    if consent_roll < 0.80:
        consents.append(_consent(ConsentKind.CRM_FORM, created))
        if rng.random() < 0.01:
            consents.append(_consent(ConsentKind.REVOCATION, created + timedelta(days=2)))
    elif consent_roll < 0.92:
        source = ContactSource.IMPORT
        consents.append(_consent(ConsentKind.MANUAL_WRITTEN, created + timedelta(days=1)))
    else:
        source = rng.choice([ContactSource.IMPORT, ContactSource.EXTERNAL, ContactSource.FORM])
    opted_out = rng.random() < 0.02
    row = {
        "account_id": account_id,
        "location_id": location_id,
        "first_name": "Patient",
        "last_name": "",
        "phone_e164": phone,
        "source": source,
        "dnd_voice": rng.random() < 0.03,
        "dnd_sms": False,
        "dnd_email": False,
        "opted_out_at": created + timedelta(days=3) if opted_out else None,
        "opted_out_channel": Channel.VOICE if opted_out else None,
        "last_engaged_at": created + timedelta(days=rng.randint(0, 4)),
        "created_at": created,
        "updated_at": created,
    }
    return row, consents


def _consent(kind: ConsentKind, at: datetime) -> dict[str, Any]:
    return {
        "kind": kind,
        "channel": Channel.VOICE,
        "recorded_at": at,
        "recorded_by": "simulation",
        "confirmed_by": "front desk" if kind is ConsentKind.MANUAL_WRITTEN else None,
        "form_valid": True if kind is ConsentKind.CRM_FORM else None,
    }


def _suppression(
    account_id: int,
    contact_id: int,
    row: dict[str, Any],
    consents: list[dict[str, Any]],
    now: datetime,
) -> dict[str, Any] | None:
    if row["phone_e164"] is None:
        return None
    revoked = [c["recorded_at"] for c in consents if c["kind"] is ConsentKind.REVOCATION]
    if row["opted_out_at"] is not None:
        at, source = row["opted_out_at"], SuppressionSource.OPT_OUT_FLAG
    elif row["dnd_voice"]:
        at, source = row["created_at"], SuppressionSource.DND_VOICE
    elif revoked:
        at, source = max(revoked), SuppressionSource.REVOCATION
    else:
        return None
    return {
        "account_id": account_id,
        "phone_e164": row["phone_e164"],
        "suppressed_at": at,
        "source": source.value,
        "contact_id": contact_id,
        "created_at": now,
        "updated_at": now,
    }
