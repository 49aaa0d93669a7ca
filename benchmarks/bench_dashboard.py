"""Outbound dashboard benchmark: tiles + trend over 30 days, and the streamed CSV export.

    .venv/bin/python benchmarks/bench_dashboard.py [--database both|sqlite|postgresql]
        [--rows 1000000] [--repeats 20] [--postgres postgresql+psycopg://...]

For each database (both by default, then a side-by-side table):
1. A fresh database (SQLite file, or a throw-away PostgreSQL database), migrated, with one
   location holding `--rows` placed calls spread over its last 30 days (outcomes ~55 %
   connected, 15 % voicemail, 20 % no answer, 10 % failed; 5 % test calls; three caller
   IDs, four workflows), a transcript with sentiment for every live conversation and one
   action on every fifth call. Bulk-inserted with Core (not part of any figure).
2. Tiles + trend: what the dashboard's live region computes for "30 Days" (the five tiles'
   statements and the daily trend), `--repeats` times; p50 / p95 / max in ms.
3. CSV export: the whole 30 days of live calls through `export_rows` in a child process
   that does only that, writing to /dev/null; rows/s, and the child's peak RSS (ru_maxrss)
   against its RSS just before the export started (imports and engine included).

Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from statistics import median

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallAction, CallJob, CallTranscript
from ringfence.adapters.db.crypto import install_cipher
from ringfence.adapters.db.engine import make_engine
from ringfence.adapters.db.migrate import upgrade
from ringfence.adapters.db.orm import Account, Contact, Location, PhoneNumber
from ringfence.adapters.db.workflows import Workflow
from ringfence.adapters.phi_cipher import PhiCipher
from ringfence.domain.dashboard.filters import DashboardFilters, TimeRange
from ringfence.domain.vocabulary import (
    CallOutcome,
    CallPurpose,
    CallStatus,
    CallType,
    ContactSource,
    KycStatus,
)
from ringfence.domain.workflows.states import WorkflowStatus
from ringfence.services.dashboard import metrics
from ringfence.services.dashboard.scope import DashboardScope
from ringfence.simulation.databases import scratch_database

NOW = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
TZ = "America/New_York"
THIRTY_DAYS = DashboardFilters(time_range=TimeRange.DAYS_30)


def seed(url: str, rows: int) -> tuple[int, int]:
    engine = make_engine(url)
    install_cipher(engine, PhiCipher.ephemeral())  # transcripts are encrypted
    upgrade(engine)
    rng = random.Random(7)
    with Session(engine) as session:
        account = Account(
            name="Bench", kyc_status=KycStatus.APPROVED, outbound_enabled=True,
            created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        session.add(account)
        session.flush()
        location = Location(
            account_id=account.id, name="Main", time_zone=TZ, created_at=NOW, updated_at=NOW
        )
        session.add(location)
        session.flush()
        numbers = []
        for i in range(3):
            number = PhoneNumber(
                account_id=account.id, location_id=location.id, e164=f"+1212555090{i}",
                created_at=NOW, updated_at=NOW,
            )  # fmt: skip
            session.add(number)
            session.flush()
            numbers.append(number.id)
        workflows = []
        for name in ("Confirmations", "No-show recovery", "Consult follow-up", "Reactivation"):
            workflow = Workflow(
                account_id=account.id, location_id=location.id, name=name,
                status=WorkflowStatus.PUBLISHED, definition={}, trigger_kind="custom",
                created_at=NOW, updated_at=NOW,
            )  # fmt: skip
            session.add(workflow)
            session.flush()
            workflows.append(workflow.id)
        contact_count = 2000
        session.execute(
            insert(Contact),
            [
                {
                    "account_id": account.id, "location_id": location.id,
                    "first_name": "Pat", "last_name": f"Client{i}",
                    "phone_e164": f"+1212{5550000 + i:07d}", "source": ContactSource.FORM,
                    "created_at": NOW, "updated_at": NOW,
                }
                for i in range(contact_count)
            ],
        )  # fmt: skip
        first_contact = session.query(Contact.id).order_by(Contact.id).first()
        assert first_contact is not None
        session.commit()
        account_id, location_id, base_contact = account.id, location.id, first_contact[0]

    outcomes = (
        [CallOutcome.CONNECTED] * 55 + [CallOutcome.VOICEMAIL] * 15
        + [CallOutcome.NO_ANSWER] * 20 + [CallOutcome.FAILED] * 10
    )  # fmt: skip
    moods = ("positive", "positive", "neutral", "negative")
    batch = 20_000
    job_id = 0
    started = time.perf_counter()
    with engine.begin() as conn:
        for start in range(0, rows, batch):
            jobs, transcripts, actions = [], [], []
            for _ in range(min(batch, rows - start)):
                job_id += 1
                day_offset = rng.randrange(30)
                dialed = NOW - timedelta(days=day_offset, seconds=rng.randrange(8 * 3600))
                outcome = rng.choice(outcomes)
                reached = outcome in (CallOutcome.CONNECTED, CallOutcome.VOICEMAIL)
                duration = rng.randrange(20, 240) if reached else 0
                jobs.append({
                    "id": job_id, "account_id": account_id, "location_id": location_id,
                    "contact_id": base_contact + rng.randrange(contact_count),
                    "from_number_id": rng.choice(numbers), "workflow_id": rng.choice(workflows),
                    "action_name": "Call", "purpose": CallPurpose.APPOINTMENT_CONFIRMATION,
                    "call_type": CallType.TEST if rng.random() < 0.05 else CallType.LIVE,
                    "status": CallStatus.COMPLETED, "evaluations": 1,
                    "phone_e164": "+12125550000", "dialed_at": dialed,
                    "dialed_local_day": TODAY - timedelta(days=day_offset),
                    "outcome": outcome, "duration_seconds": duration,
                    "billable_seconds": duration, "ended_at": dialed + timedelta(seconds=duration),
                    "created_at": dialed, "updated_at": dialed,
                })  # fmt: skip
                if outcome is CallOutcome.CONNECTED:
                    transcripts.append({
                        "account_id": account_id, "job_id": job_id, "turns": [],
                        "sentiment": rng.choice(moods), "sentiment_score": 0.1,
                        "created_at": dialed,
                    })  # fmt: skip
                if job_id % 5 == 0:
                    actions.append({
                        "account_id": account_id, "location_id": location_id, "job_id": job_id,
                        "kind": rng.choice(("tag_applied", "task_created", "note_added")),
                        "detail": "", "at": dialed,
                    })  # fmt: skip
            conn.execute(insert(CallJob), jobs)
            if transcripts:
                conn.execute(insert(CallTranscript), transcripts)
            if actions:
                conn.execute(insert(CallAction), actions)
            print(f"  seeded {start + len(jobs):,} / {rows:,} calls", end="\r", flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(f"  seeded {rows:,} calls in {time.perf_counter() - started:.0f} s" + " " * 20)
    engine.dispose()
    return account_id, location_id


def time_tiles(url: str, account_id: int, location_id: int, repeats: int) -> list[float]:
    engine = make_engine(url)
    scope = DashboardScope.at(account_id, location_id, TZ, NOW)
    times = []
    with Session(engine) as session:
        metrics.tiles(session, scope, THIRTY_DAYS)  # warm the caches once, unmeasured
        for _ in range(repeats):
            started = time.perf_counter()
            metrics.tiles(session, scope, THIRTY_DAYS)
            metrics.trend_points(session, scope, THIRTY_DAYS)
            times.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return times


def export_child(url: str, account_id: int, location_id: int) -> None:
    """Run in a child process: the export alone, so its peak RSS is the export's."""
    from ringfence.services.dashboard.export import export_rows

    engine = make_engine(url)
    scope = DashboardScope.at(account_id, location_id, TZ, NOW)
    with Session(engine) as session:
        session.connection()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        lines = 0
        with open("/dev/null", "w") as sink:
            for chunk in export_rows(session, scope, THIRTY_DAYS):
                lines += chunk.count("\r\n")
                sink.write(chunk)
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"EXPORT {lines - 1} {elapsed:.3f} {before / 1024:.1f} {peak / 1024:.1f}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_one(name: str, server: str | None, args: argparse.Namespace) -> dict[str, float]:
    print(f"\n== {name}: {args.rows:,} calls in one location's last 30 days")
    with scratch_database(server) as url:
        account_id, location_id = seed(url, args.rows)
        times = time_tiles(url, account_id, location_id, args.repeats)
        print(
            f"tiles + trend (30 days): p50 {median(times):.1f} ms, p95 {pct(times, 0.95):.1f} ms, "
            f"max {max(times):.1f} ms over {len(times)} runs (target p95 < 300 ms)"
        )
        child = subprocess.run(
            [sys.executable, __file__, "_export", url, str(account_id), str(location_id)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        line = next(x for x in child.stdout.splitlines() if x.startswith("EXPORT "))
        _, rows, seconds, before, peak = line.split()
        rate = int(rows) / float(seconds)
        print(
            f"CSV export: {int(rows):,} rows in {float(seconds):.1f} s = {rate:,.0f} rows/s; "
            f"child RSS {float(before):.0f} MB before, peak {float(peak):.0f} MB "
            f"(target peak < 200 MB)"
        )
    return {
        "p50": median(times), "p95": pct(times, 0.95), "rows_per_s": rate,
        "peak_mb": float(peak), "rows": float(rows),
    }  # fmt: skip


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_export":
        export_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    results = {}
    if args.database in ("both", "sqlite"):
        results["SQLite"] = run_one("SQLite", None, args)
    if args.database in ("both", "postgresql"):
        results["PostgreSQL"] = run_one("PostgreSQL", args.postgres, args)
    if len(results) > 1:
        print(f"\n{'database':<12}{'p50 ms':>9}{'p95 ms':>9}{'export rows/s':>15}{'peak MB':>9}")
        for name, r in results.items():
            print(
                f"{name:<12}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['rows_per_s']:>15,.0f}"
                f"{r['peak_mb']:>9.0f}"
            )
        sqlite, pg = results["SQLite"], results["PostgreSQL"]
        print(
            f"ratio PostgreSQL/SQLite: tiles p95 {pg['p95'] / sqlite['p95']:.2f}x, "
            f"export rate {pg['rows_per_s'] / sqlite['rows_per_s']:.2f}x"
        )


if __name__ == "__main__":
    main()
