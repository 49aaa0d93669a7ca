"""What a /metrics scrape costs the database, with many call jobs on record.

    .venv/bin/python benchmarks/bench_metrics.py [--jobs 500000] [--open-share 0.01]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--rounds 5]

Fills a throw-away database (SQLite, and PostgreSQL when given) with `--jobs` call jobs, most of
them settled (completed, failed, canceled) and `--open-share` of them open (queued, deferred,
in progress), then times, side by side in one run:
- the exact count (`call_job_counts`: every job, grouped; what each scrape used to run);
- a scrape through the per-process cache (`CallJobCountsCache`) when it recounts the settled
  jobs (at most once a minute);
- a scrape through the cache between recounts (open jobs only: every other scrape).
Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.engine import make_engine, make_session_factory
from ringfence.adapters.db.migrate import upgrade
from ringfence.services.call_metrics import CallJobCountsCache, call_job_counts
from ringfence.simulation.databases import scratch_database
from ringfence.simulation.population import PopulationSpec, populate
from ringfence.simulation.runner import DEFAULT_START

SETTLED = (("completed", None), ("failed", "no_opt_in"), ("canceled", "opted_out"))
OPEN = ("queued", "deferred", "in_progress")


def fill(session: Session, jobs: int, open_share: float) -> None:
    population = populate(
        session, PopulationSpec(locations=1, contacts_per_location=1, seed=7), now=DEFAULT_START
    )
    del population
    template = session.query(CallJob).one()
    base = {
        "account_id": template.account_id,
        "location_id": template.location_id,
        "contact_id": template.contact_id,
        "purpose": template.purpose,
        "call_type": template.call_type,
        "action_name": "bench",
        "evaluations": 1,
        "next_attempt_at": DEFAULT_START,
        "created_at": DEFAULT_START,
        "updated_at": DEFAULT_START,
    }
    every = max(1, round(1 / open_share)) if open_share > 0 else 0
    rows = []
    for i in range(jobs):
        if every and i % every == 0:
            status, reason = OPEN[i % len(OPEN)], None
        else:
            status, reason = SETTLED[i % len(SETTLED)]
        rows.append(base | {"status": status, "reason_code": reason})
        if len(rows) == 10_000:
            session.execute(insert(CallJob), rows)
            rows.clear()
    if rows:
        session.execute(insert(CallJob), rows)
    session.commit()


def timed(run: Callable[[], object], rounds: int) -> float:
    spent = []
    for _ in range(rounds):
        began = time.perf_counter()
        run()
        spent.append(time.perf_counter() - began)
    return statistics.median(spent) * 1000


def measure(server: str | None, jobs: int, open_share: float, rounds: int) -> dict[str, float]:
    with scratch_database(server) as url:
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions() as session:
            fill(session, jobs, open_share)
        now = DEFAULT_START + timedelta(hours=1)
        with sessions() as session:
            exact = timed(lambda: call_job_counts(session, now), rounds)

            def recount() -> None:
                CallJobCountsCache().counts(session, now)

            between = CallJobCountsCache()
            between.counts(session, now)
            recounting = timed(recount, rounds)
            cached = timed(lambda: between.counts(session, now), rounds)
        engine.dispose()
    return {"exact": exact, "recount": recounting, "cached": cached}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=500_000)
    parser.add_argument("--open-share", type=float, default=0.01)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    servers: list[tuple[str, str | None]] = [("SQLite", None)]
    if args.postgres:
        servers.append(("PostgreSQL", args.postgres))
    print(f"{args.jobs:,} call jobs, {args.open_share:.1%} open; median of {args.rounds} rounds")
    print(
        f"{'database':<12}{'exact ms':>12}{'recount ms':>14}{'cached ms':>12}{'cached/exact':>15}"
    )
    for name, server in servers:
        figures = measure(server, args.jobs, args.open_share, args.rounds)
        ratio = figures["cached"] / figures["exact"]
        print(
            f"{name:<12}{figures['exact']:>12.1f}{figures['recount']:>14.1f}"
            f"{figures['cached']:>12.1f}{ratio:>15.3f}"
        )


if __name__ == "__main__":
    main()
