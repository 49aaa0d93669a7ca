"""A realistic synthetic population for the dispatcher simulation, written in bulk.

Practices spread over every US time zone; patients whose numbers come mostly from their
practice's area codes and partly from anywhere (multi-zone and overlay codes included, plus a
few Canadian numbers and missing numbers); mixed consent (CRM forms, manual written consent,
none, revoked), DND and opt-outs; appointments. Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from ringfence.adapters.db import orm
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.us_zones import us_time_zone
from ringfence.domain.vocabulary import (
    CallPurpose,
    Channel,
    ConsentKind,
    ContactSource,
    KycStatus,
)
from ringfence.services.call_jobs import CallRequest, enqueue_calls
from ringfence.simulation.events import EnqueueCall, OptOut, OptOutHow, SimEvent

# Practice zones and the area codes their patients mostly have.
PRACTICE_ZONES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("America/New_York", 0.38, ("212", "646", "718", "305", "404", "617", "215", "313")),
    ("America/Chicago", 0.27, ("312", "713", "214", "512", "615", "314", "504", "612")),
    ("America/Denver", 0.10, ("303", "720", "801", "505", "406")),
    ("America/Phoenix", 0.05, ("602", "480", "520", "623")),
    ("America/Los_Angeles", 0.18, ("213", "310", "415", "206", "503", "702", "619")),
    ("America/Anchorage", 0.01, ("907",)),
    ("America/Adak", 0.002, ("907",)),
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
    """`shared_number_share`: the share of a location's contacts whose number is also a
    contact's at an earlier location of the same account (the same patient saved twice);
    `recurring_every_days`: every contact is enqueued again every so many days, at a random
    hour of the day (0: one campaign at the start); `mid_run_opt_out_share`: the share of
    contacts who opt out at a random instant of the run, on another channel than the call."""

    locations: int
    contacts_per_location: int
    seed: int = 1
    locations_per_account: int = 10
    marketing_share: float = 0.3
    shared_number_share: float = 0.0
    recurring_every_days: int = 0
    mid_run_opt_out_share: float = 0.0

    @property
    def one_campaign(self) -> bool:
        """Whether this is a single campaign (what the lawful-capacity yardstick models)."""
        return not (
            self.shared_number_share or self.recurring_every_days or self.mid_run_opt_out_share
        )


@dataclass(frozen=True, slots=True)
class Population:
    accounts: int
    locations: int
    contacts: int
    jobs: int
    # What happens during the run, in order of its instant (simulation/events.py).
    events: tuple[SimEvent, ...] = ()


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
    end: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Population:
    """Create the population and enqueue one call job per contact (committing per location
    batch), through the same `enqueue_calls` service a workflow step uses; plan the events of
    `[now, end)` the spec asks for."""
    rng = random.Random(spec.seed)
    events_rng = random.Random(spec.seed + 1)  # events never shift the population itself
    end = end or now + timedelta(days=1)
    events: list[SimEvent] = []
    account_phones: list[str] = []  # numbers of the account's earlier locations
    suppressed: dict[tuple[int, str], datetime] = {}
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
            account_phones = []
        zone = rng.choices(zones, weights)[0]
        location = orm.Location(
            account_id=account_id,
            name=f"Location {index + 1}",
            time_zone=us_time_zone(zone),  # locations are in the states only
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
        _share_numbers(events_rng, rows, account_phones, spec.shared_number_share)
        account_phones.extend(row["phone_e164"] for row, _ in rows if row["phone_e164"])
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
        _write_suppressions(session, suppressions, suppressed)
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
        events += _plan_events(events_rng, spec, account_id, requests, now, end)
        contacts += len(ids)
        session.commit()
        if progress is not None:
            progress(index + 1)
    events.sort(key=lambda event: event.at)
    return Population(
        accounts=accounts,
        locations=spec.locations,
        contacts=contacts,
        jobs=jobs,
        events=tuple(events),
    )


def _share_numbers(
    rng: random.Random, rows: list[tuple[dict[str, Any], Any]], earlier: list[str], share: float
) -> None:
    """Give a share of `rows` the number of a contact at an earlier location of the account."""
    if not share or not earlier:
        return
    used = {row["phone_e164"] for row, _ in rows}
    for row, _consents in rows:
        if rng.random() >= share:
            continue
        phone = rng.choice(earlier)
        if phone in used:  # one number per contact within a location
            continue
        used.add(phone)
        row["phone_e164"] = phone


def _write_suppressions(
    session: Session,
    entries: list[dict[str, Any] | None],
    written: dict[tuple[int, str], datetime],
) -> None:
    """One entry per (account, number): a number shared with an earlier location keeps the
    latest opt-out of its contacts, as `suppress_number` would."""
    fresh: dict[tuple[int, str], dict[str, Any]] = {}
    for entry in entries:
        if entry is None:
            continue
        key = (entry["account_id"], entry["phone_e164"])
        if key in written:
            if entry["suppressed_at"] > written[key]:
                written[key] = entry["suppressed_at"]
                session.execute(
                    update(orm.NumberSuppression)
                    .where(
                        orm.NumberSuppression.account_id == key[0],
                        orm.NumberSuppression.phone_e164 == key[1],
                    )
                    .values(suppressed_at=entry["suppressed_at"], source=entry["source"])
                )
            continue
        if key not in fresh or entry["suppressed_at"] > fresh[key]["suppressed_at"]:
            fresh[key] = entry
    if fresh:
        session.execute(insert(orm.NumberSuppression), list(fresh.values()))
        written.update({key: entry["suppressed_at"] for key, entry in fresh.items()})


def _plan_events(
    rng: random.Random,
    spec: PopulationSpec,
    account_id: int,
    requests: list[CallRequest],
    start: datetime,
    end: datetime,
) -> list[SimEvent]:
    """Recurring enqueues (at any hour: late-day ones must wait for the next window) and
    mid-run opt-outs on another channel, for one location's contacts."""
    planned: list[SimEvent] = []
    span = (end - start).total_seconds()
    for request in requests:
        if spec.recurring_every_days:
            every = timedelta(days=spec.recurring_every_days)
            at = start + every + timedelta(seconds=rng.uniform(0, 86_400))
            while at < end:
                again = replace(request, action_name="Recurring simulated call")
                planned.append(EnqueueCall(at.replace(microsecond=0), account_id, again))
                at += every + timedelta(seconds=rng.uniform(-3_600, 3_600))
        if spec.mid_run_opt_out_share and rng.random() < spec.mid_run_opt_out_share:
            at = start + timedelta(seconds=rng.uniform(0, span))
            how = rng.choice(list(OptOutHow))
            planned.append(OptOut(at.replace(microsecond=0), account_id, request.contact_id, how))
    return planned


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
