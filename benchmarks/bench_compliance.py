"""Compliance engine throughput: verdicts per second for 100,000 realistic prospective calls.

    .venv/bin/python benchmarks/bench_compliance.py [--calls N] [--seed S]

Builds the facts first (that is the database layer's work), then times `evaluate()` alone, on
one core: a cold first verdict (tables built on first use), then the batch twice. Prints
numbers only; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import phonenumbers

from ringfence.domain.compliance import (
    AccountFacts,
    CallFacts,
    ConsentFacts,
    ContactFacts,
    Defer,
    Dial,
    LocationFacts,
    classify_e164,
    evaluate,
)
from ringfence.domain.vocabulary import CallPurpose, Channel, ContactSource, KycStatus

# Area codes weighted roughly like a national med-spa customer base, multi-zone ones included.
_AREA_CODE_TEXT = """
212 646 718 917 305 786 954 561 407 813 727 404 678 470 312 773 630 847 214 972 469 713
281 832 512 210 602 480 520 928 303 720 702 725 801 385 415 510 408 650 310 323 213 818
626 949 714 858 619 206 425 503 971 541 458 208 986 808 907 615 901 423 502 270 317 812
616 313 906 612 651 414 216 614 412 215 267 617 857 401 203 860 202 703 571 301 410 919
704 843 205 225 504 601 405 918 316 785 402 308 605 701 406 307 505 775 850 448
"""
AREA_CODES = tuple(_AREA_CODE_TEXT.split())
LOCATION_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
)
_ZIP_TEXT = """
10001 33101 32501 30301 60601 75201 79901 85001 86515 80202 89101 84101 94103 90012
98101 97201 83702 96813 99501 37203 40202 46204 48226 02903 06103 35203 70112
"""
ZIPS = tuple(_ZIP_TEXT.split())


def _exchanges(npa: str, rng: random.Random) -> list[str]:
    found: list[str] = []
    for exchange in rng.sample(range(200, 1000), 800):
        number = f"+1{npa}{exchange}0123"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            found.append(str(exchange))
            if len(found) == 5:
                break
    return found


def build_batch(count: int, seed: int) -> tuple[list[CallFacts], list[datetime]]:
    rng = random.Random(seed)
    exchanges = {npa: _exchanges(npa, rng) for npa in AREA_CODES}
    base = datetime(2026, 6, 8, 12, 0, tzinfo=UTC)  # Monday 08:00 in New York; a whole week
    facts: list[CallFacts] = []
    nows: list[datetime] = []
    purposes = list(CallPurpose)
    for _ in range(count):
        # The dispatcher runs every day, 08:00-20:00 Eastern.
        now = base + timedelta(days=rng.randrange(7), seconds=rng.randrange(12 * 3600))
        npa = rng.choice(AREA_CODES)
        phone = f"+1{npa}{rng.choice(exchanges[npa])}{rng.randrange(10_000):04d}"
        roll = rng.random()
        source = ContactSource.FORM if roll < 0.9 else ContactSource.IMPORT
        consented = now - timedelta(days=rng.randrange(1, 900))
        if roll < 0.88:
            consent = ConsentFacts(crm_form_opt_in_at=consented)
        elif roll < 0.97:
            consent = ConsentFacts(manual_written_at=consented)
        elif roll < 0.99:
            consent = ConsentFacts()
        else:
            consent = ConsentFacts(crm_form_opt_in_at=consented, revoked_at=now)
        dials = tuple(
            now - timedelta(minutes=rng.randrange(20, 14 * 24 * 60))
            for _ in range(rng.choice((0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4)))
        )
        contact = ContactFacts(
            phone_e164=phone,
            source=source,
            dnd_voice=rng.random() < 0.01,
            opted_out_at=now - timedelta(days=3) if rng.random() < 0.01 else None,
            opted_out_channel=rng.choice((None, Channel.SMS, Channel.VOICE)),
            postal_code=rng.choice(ZIPS) if rng.random() < 0.6 else None,
            last_engaged_at=now - timedelta(days=rng.randrange(1, 400)),
        )
        location = LocationFacts(
            time_zone=rng.choice(LOCATION_ZONES),
            dials_today=rng.choice((rng.randrange(0, 100), 100)) if rng.random() < 0.1 else 12,
            last_dial_at=now - timedelta(seconds=rng.randrange(10, 600)),
        )
        facts.append(
            CallFacts(
                purpose=rng.choice(purposes),
                account=AccountFacts(KycStatus.APPROVED, outbound_enabled=rng.random() > 0.001),
                contact=contact,
                consent=consent,
                location=location,
                number_dials=dials,
            )
        )
        nows.append(now)
    return facts, nows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    facts, nows = build_batch(args.calls, args.seed)
    print(f"built {len(facts):,} facts in {time.perf_counter() - started:.1f} s (not timed)")

    started = time.perf_counter()
    evaluate(facts[0], nows[0])
    cold = time.perf_counter() - started
    print(f"cold first verdict (zone tables, number regexes, holidays): {cold:.3f} s")
    valid = sum(classify_e164(f.contact.phone_e164 or "").valid for f in facts)
    print(f"valid numbers: {valid:,} of {len(facts):,}")

    for attempt in ("first pass", "second pass"):
        verdicts: Counter[str] = Counter()
        started = time.perf_counter()
        for call, now in zip(facts, nows, strict=True):
            verdict = evaluate(call, now).verdict
            if isinstance(verdict, Dial):
                verdicts["dial"] += 1
            elif isinstance(verdict, Defer):
                verdicts[f"{verdict.status}:{verdict.reason}"] += 1
            else:
                verdicts[f"fail:{verdict.reason}"] += 1
        elapsed = time.perf_counter() - started
        rate = len(facts) / elapsed
        print(f"{attempt}: {len(facts):,} verdicts in {elapsed:.2f} s = {rate:,.0f} verdicts/s")
    for key, value in verdicts.most_common():
        print(f"  {key:40s} {value:>7,}")


if __name__ == "__main__":
    main()
