"""Dispatcher benchmark: the issue's scenarios, printed side by side in one run.

    .venv/bin/python benchmarks/bench_dispatcher.py [--locations 1000] [--contacts 150]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--workers 4]
        [--skip-sqlite] [--skip-postgres] [--skip-scaling]

1. One simulated day on SQLite, one dispatcher: violations, utilization, wall time.
2. The same population on PostgreSQL with N worker processes.
3. The database floor on each backend: the bare claim-and-update transactions the dispatcher
   must do for the same number of dials, with no logic (no gate, no facts, no carrier); the
   dispatcher's time is reported as floor / dispatcher (1.0 = as fast as the bare writes).
4. Tick cost vs waiting jobs: the same due work with W and 10 x W jobs waiting in the future.

Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from ringfence.adapters.db.calls import CallEvent, CallJob, MinutesLedger
from ringfence.adapters.db.crypto import install_cipher
from ringfence.adapters.db.engine import make_engine, make_session_factory
from ringfence.adapters.db.migrate import upgrade
from ringfence.adapters.phi_cipher import PhiCipher
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.clock import VirtualClock
from ringfence.domain.calls import PENDING
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.vocabulary import CallStatus
from ringfence.services.dispatch import (
    Dispatcher,
)
from ringfence.simulation.databases import scratch_database
from ringfence.simulation.population import PopulationSpec, populate
from ringfence.simulation.runner import DEFAULT_START, SimulationSpec, run_simulation

JOBS = CallJob.__table__


def simulate(url: str, locations: int, contacts: int, workers: int) -> dict[str, Any]:
    spec = SimulationSpec(
        population=PopulationSpec(locations=locations, contacts_per_location=contacts, seed=7),
        database_url=url,
        workers=workers,
        carrier_cps=25.0,
        carrier_burst=1500.0,
    )
    return run_simulation(spec).as_dict()


def database_floor(url: str, locations: int, contacts: int, dials: int) -> float:
    """Seconds for the bare transactions behind `dials` dials: per tick (one job per
    location) claim, mark dialing with an event, then mark completed with a ledger row."""
    engine = make_engine(url)
    install_cipher(engine, PhiCipher.ephemeral())  # calls leave encrypted transcripts
    sessions = make_session_factory(engine)
    upgrade(engine)
    with sessions() as session:
        populate(
            session,
            PopulationSpec(locations=locations, contacts_per_location=contacts, seed=7),
            now=DEFAULT_START,
        )
    postgres = engine.dialect.name == "postgresql"
    began = time.perf_counter()
    done = 0
    tick = DEFAULT_START
    while done < dials:
        tick += timedelta(minutes=1)
        with sessions() as session, session.begin():
            query = (
                select(CallJob.id, CallJob.account_id, CallJob.location_id)
                .where(CallJob.status.in_(PENDING))
                .order_by(CallJob.location_id, CallJob.id)
            )
            if postgres:
                query = query.with_for_update(skip_locked=True)
            seen: set[int] = set()
            claimed = []
            for job_id, account_id, location_id in session.execute(query.limit(locations * 2)):
                if location_id not in seen and len(claimed) < dials - done:
                    seen.add(location_id)
                    claimed.append((job_id, account_id, location_id))
            if not claimed:
                break
            session.execute(
                update(JOBS)
                .where(JOBS.c.id == bindparam("b_id"))
                .values(status=CallStatus.DIALING, dialed_at=tick, idempotency_key=bindparam("k")),
                [{"b_id": j, "k": f"floor-{j}"} for j, _a, _l in claimed],
            )
            session.execute(
                insert(CallEvent),
                [
                    {"account_id": a, "job_id": j, "at": tick, "from_status": "queued",
                     "to_status": "dialing", "reason_code": None, "detail": None}
                    for j, a, _l in claimed
                ],
            )  # fmt: skip
        with sessions() as session, session.begin():
            session.execute(
                update(JOBS)
                .where(JOBS.c.id == bindparam("b_id"))
                .values(status=CallStatus.COMPLETED, billable_seconds=60),
                [{"b_id": j} for j, _a, _l in claimed],
            )
            session.execute(
                insert(MinutesLedger),
                [
                    {"account_id": a, "location_id": loc, "job_id": j, "local_day": tick.date(),
                     "billable_seconds": 60, "booked_at": tick}
                    for j, a, loc in claimed
                ],
            )  # fmt: skip
        done += len(claimed)
    seconds = time.perf_counter() - began
    engine.dispose()
    return seconds


def tick_cost(url: str, waiting: int, due_locations: int = 100, ticks: int = 20) -> float:
    """Mean milliseconds per tick with `due_locations` locations of due work and `waiting`
    extra jobs deferred into the future (which a tick must not pay for)."""
    engine = make_engine(url)
    install_cipher(engine, PhiCipher.ephemeral())  # calls leave encrypted transcripts
    sessions = make_session_factory(engine)
    upgrade(engine)
    with sessions() as session:
        populate(
            session,
            PopulationSpec(locations=due_locations, contacts_per_location=20, seed=3),
            now=DEFAULT_START,
        )
        template = session.execute(
            select(CallJob.account_id, CallJob.location_id, CallJob.contact_id).limit(1)
        ).one()
        far = DEFAULT_START + timedelta(days=30)
        rows = [
            {"account_id": template[0], "location_id": template[1], "contact_id": template[2],
             "purpose": "appointment_confirmation", "call_type": "live", "status": "deferred",
             "next_attempt_at": far, "evaluations": 0, "action_name": "",
             "created_at": DEFAULT_START, "updated_at": DEFAULT_START}
            for _ in range(waiting)
        ]  # fmt: skip
        for i in range(0, len(rows), 5000):
            session.execute(insert(CallJob), rows[i : i + 5000])
        session.commit()
        total = session.scalar(select(func.count()).select_from(CallJob))
    clock = VirtualClock(DEFAULT_START + timedelta(hours=15))  # 10:00 in New York
    dispatcher = Dispatcher(
        session_factory=sessions,
        carrier=SandboxCarrier(sessions, clock),
        clock=clock,
        config=DispatchConfig(carrier_cps=50, carrier_burst=3000, max_concurrent_calls=100_000),
    )
    dispatcher.tick()  # warm caches
    began = time.perf_counter()
    for _ in range(ticks):
        clock.advance(timedelta(minutes=1))
        dispatcher.tick()
    mean_ms = (time.perf_counter() - began) / ticks * 1000
    engine.dispose()
    print(f"    {total:>9,} jobs in the table ({waiting:,} waiting): {mean_ms:7.1f} ms per tick")
    return mean_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locations", type=int, default=1000)
    parser.add_argument("--contacts", type=int, default=150)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    n, m = args.locations, args.contacts
    backends = [] if args.skip_sqlite else [("sqlite", None, 1)]
    if not args.skip_postgres:
        backends.append(("postgresql", args.postgres, args.workers))
    header = (
        f"{'backend':<11}{'workers':>8}{'dials':>9}{'viol.':>7}{'util.':>8}{'twice':>7}"
        f"{'dispatch s':>12}{'dials/s':>9}{'decisions/s':>13}{'floor s':>9}{'floor/disp':>11}"
    )
    print(header)
    print("-" * len(header), flush=True)
    for name, server, workers in backends:
        with scratch_database(server) as url:
            r = simulate(url, n, m, workers)
        with scratch_database(server) as url:
            floor = database_floor(url, n, m, int(r["dials"]))
        seconds = r["dispatch_seconds"]
        print(
            f"{name:<11}{workers:>8}{r['dials']:>9,}{r['violations']:>7}{r['utilization']:>8.3f}"
            f"{r['dialed_twice']:>7}{seconds:>12.1f}{r['dials'] / seconds:>9.0f}"
            f"{r['decisions_per_second']:>13.0f}{floor:>9.1f}{floor / seconds:>11.2f}"
        )
        print(
            f"{'':<11}{n} locations x {m} contacts, 1 day; populate {r['populate_seconds']} s, "
            f"audit {r['audit_seconds']} s, lawful capacity {r['lawful_capacity']:,}, "
            f"ledger matches: {r['ledger_matches']}",
            flush=True,
        )
    if not args.skip_scaling:
        print("\ntick cost vs waiting jobs (SQLite, 100 locations of due work):")
        with scratch_database(None) as url:
            small = tick_cost(url, waiting=10_000)
        with scratch_database(None) as url:
            large = tick_cost(url, waiting=100_000)
        print(f"    10x the waiting jobs -> {large / small:.2f}x the tick time", flush=True)


if __name__ == "__main__":
    main()
