"""Event ingestion benchmark: `POST /api/v1/events` at a fixed rate against the real server.

    .venv/bin/python benchmarks/bench_events.py [--database both|sqlite|postgresql]
        [--rate 500] [--seconds 60] [--warmup 3] [--workers 2] [--workflows 2]
        [--redeliveries 0.05] [--concurrency 64] [--client raw|httpx] [--with-runner]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

For each database (both by default, then a side-by-side table):
1. A fresh database (a SQLite file in a temporary folder, or a throw-away PostgreSQL database
   dropped afterwards), migrated and seeded: one account (KYC approved, outbound enabled), a
   location, a phone number, an agent, `--workflows` published workflows triggered by the
   custom event "bench" (a 7-day wait first, so nothing dials during the run), one contact
   with a CRM-form opt-in per event to send, and an API key.
2. The server: uvicorn on the app `ringfence serve` serves, with `--workers` processes, on a
   free loopback port. `--with-runner` adds the workflow runner and the dispatcher (what
   `ringfence serve` runs in threads beside the API) as one more process.
3. The load, from a second process: an open-loop schedule, one request every 1/rate seconds
   sent at its time whatever earlier requests are doing, so a slow server shows in the
   latency instead of slowing the load (no coordinated omission); latency is measured from
   each request's scheduled time, waits for a free connection included. A share of the
   requests redeliver an event id already answered. The first `--warmup` seconds run at the
   same rate but are not measured (they are checked). The client is a small hand-written
   HTTP/1.1 keep-alive client (`RawClient` says why), or httpx with `--client httpx`.
4. The checks, in the database: every acknowledged event stored once, each with one
   enrollment per workflow (none lost), no (workflow, event, contact) or (workflow, contact)
   twice (none duplicated), and every redelivery answered 200 `duplicate: true` with the
   first delivery's enrollments. Then a verdict per target: the rate sustained, p99 under
   100 ms, nothing lost, nothing duplicated.
5. The server's CPU: user + system time of uvicorn's processes (from /proc) over the load,
   warm-up included, once the workers have settled after start-up, as ms per event answered
   and events per CPU-second, beside the latency table. On a machine shared with other work
   it is the steadier figure (the load generator and a PostgreSQL server are not in it).

No-subject events enroll a contact at most once per workflow while they run it (the re-entry
rule), so each new event names a contact of its own: that keeps "enrollments = events x
workflows" the whole expectation.

Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, insert, select

from ringfence.adapters.db.engine import make_engine, make_session_factory
from ringfence.adapters.db.migrate import upgrade
from ringfence.adapters.db.orm import (
    Account,
    ConsentRecord,
    Contact,
    Location,
    PhoneNumber,
    VoiceAgent,
)
from ringfence.adapters.db.workflows import Enrollment, WorkflowEvent
from ringfence.bootstrap import bootstrap
from ringfence.config import Settings
from ringfence.domain.vocabulary import Channel, ConsentKind, ContactSource, KycStatus
from ringfence.entrypoints import worker
from ringfence.entrypoints.asgi import create_app
from ringfence.services.api_keys import create_api_key
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows import manage
from ringfence.simulation.databases import scratch_database

HERE = Path(__file__).resolve().parent
EVENT_NAME = "bench"
TARGET_P99_MS = 100.0


# --- the server (imported by uvicorn in each worker process) ----------------------------------


def server_app() -> FastAPI:
    """The app `ringfence serve` serves, configured from the environment (uvicorn --factory)."""
    return create_app(bootstrap(Settings()))


def run_background() -> None:
    """What `ringfence serve` runs beside the API: the workflow runner and the dispatcher."""
    container = bootstrap(Settings())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(
        target=worker.run_workflows, args=(container, stop), name="workflows", daemon=True
    ).start()
    worker.run(container, stop)
    container.close()


# --- seeding ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seeded:
    account_id: int
    api_key: str
    contact_ids: list[int]
    workflow_ids: list[int]


def workflow_definition(agent_id: int, number_id: int) -> dict[str, Any]:
    return {
        "trigger": {"kind": "custom", "event_name": EVENT_NAME},
        "steps": [
            {"type": "wait", "until": "duration", "minutes": 7 * 24 * 60},
            {
                "type": "voice_ai_call",
                "action_name": "Bench follow-up call",
                "agent_id": agent_id,
                "from_number_id": number_id,
                "purpose": "lead_reactivation",
            },
        ],
    }


def seed(url: str, *, contacts: int, workflows: int) -> Seeded:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    with sessions() as session:
        account = Account(
            name="Bench Aesthetics",
            kyc_status=KycStatus.APPROVED,
            outbound_enabled=True,
            created_at=now,
            updated_at=now,
        )
        session.add(account)
        session.flush()
        location = Location(
            account_id=account.id,
            name="Bench main",
            time_zone="America/New_York",
            created_at=now,
            updated_at=now,
        )
        session.add(location)
        session.flush()
        agent = VoiceAgent(
            account_id=account.id,
            location_id=location.id,
            name="Desk",
            practice_name="Bench Aesthetics",
            created_at=now,
            updated_at=now,
        )
        number = PhoneNumber(
            account_id=account.id,
            location_id=location.id,
            e164="+12125550199",
            created_at=now,
            updated_at=now,
        )
        session.add_all([agent, number])
        session.flush()
        scope = TenantScope(account_id=account.id, actor="bench")
        workflow_ids = []
        # Published before the contacts exist: publishing counts the audience.
        for i in range(workflows):
            workflow = manage.create_workflow(
                session,
                scope,
                name=f"Bench {i + 1}",
                location_id=location.id,
                definition=workflow_definition(agent.id, number.id),
                now=now,
            )
            manage.publish(session, scope, workflow, now=now)
            workflow_ids.append(workflow.id)
        _key, api_key = create_api_key(session, account_id=account.id, name="bench", now=now)
        account_id, location_id = account.id, location.id
        session.commit()
    opted_in = now - timedelta(days=1)
    with sessions() as session:
        for start in range(0, contacts, 5000):
            chunk = range(start, min(start + 5000, contacts))
            session.execute(
                insert(Contact),
                [
                    {"account_id": account_id, "location_id": location_id,
                     "first_name": "Pat", "last_name": f"Bench {i}",
                     "phone_e164": f"+1212{2_000_000 + i:07d}", "source": ContactSource.FORM,
                     "created_at": now, "updated_at": now}
                    for i in chunk
                ],
            )  # fmt: skip
        contact_ids = list(
            session.scalars(
                select(Contact.id).where(Contact.account_id == account_id).order_by(Contact.id)
            )
        )
        # Consent is a fact about a number (the ledger the gate and the audience read): each
        # record names the number it covers and the verdict of the form it came through.
        phones = dict(
            session.execute(
                select(Contact.id, Contact.phone_e164).where(Contact.account_id == account_id)
            ).all()
        )
        for start in range(0, len(contact_ids), 5000):
            session.execute(
                insert(ConsentRecord),
                [
                    {"account_id": account_id, "location_id": location_id, "contact_id": cid,
                     "kind": ConsentKind.CRM_FORM, "channel": Channel.VOICE,
                     "recorded_at": opted_in, "recorded_by": "bench",
                     "phone_e164": phones[cid], "form_valid": True}
                    for cid in contact_ids[start : start + 5000]
                ],
            )  # fmt: skip
        session.commit()
    engine.dispose()
    return Seeded(account_id, api_key, contact_ids, workflow_ids)


# --- the load generator (a process of its own) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadSpec:
    url: str
    api_key: str
    rate: float
    seconds: float
    warmup: float  # seconds at the same rate first, stored and checked but not measured
    contact_ids: list[int]
    redeliveries: float
    workflows: int
    concurrency: int
    client: str = "raw"
    seed: int = 7


@dataclass
class LoadResult:
    """The measured window's figures; `acknowledged` covers the warm-up too."""

    sent: int = 0
    new_sent: int = 0
    redeliveries_sent: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)  # from the scheduled send time
    scheduled_s: list[float] = field(default_factory=list)  # each one's send time, in the run
    send_lag_ms: list[float] = field(default_factory=list)  # the generator's own lateness
    answered_per_second: list[int] = field(default_factory=list)
    wall_seconds: float = 0.0  # first scheduled send to last answer
    warmup_sent: int = 0
    new_ids_sent: int = 0  # warm-up included
    acknowledged: list[str] = field(default_factory=list)  # new ids answered 201
    answered_all: int = 0  # 200 or 201, warm-up included (what the server's CPU is divided by)
    unexpected: list[str] = field(default_factory=list)  # answers that break the contract
    redeliveries_ok: int = 0  # 200, duplicate, the first delivery's enrollments


class ClientError(Exception):
    """A request that got no HTTP answer (connection refused or reset, timeout)."""


class RawClient:
    """HTTP/1.1 over keep-alive loopback connections, written by hand: on this 2-core machine
    httpx spends about 2.8 ms of CPU per request (1.7 ms for httpcore alone) even against a
    hello-world server, so at 500 requests a second it would take most of a core from the
    server under test; this client spends about 0.2 ms."""

    def __init__(self, url: str, api_key: str, connections: int) -> None:
        parsed = httpx.URL(url)
        self.host, self.port = parsed.host, parsed.port or 80
        self.head = (
            f"POST /api/v1/events HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {api_key}\r\nContent-Type: application/json\r\n"
        ).encode()
        self.limit = connections
        self.opened = 0
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.idle.empty() and self.opened < self.limit:
            self.opened += 1
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                self.opened -= 1
                raise ClientError(type(exc).__name__) from exc
        else:
            reader, writer = await self.idle.get()
        try:
            async with asyncio.timeout(30):
                writer.write(b"%sContent-Length: %d\r\n\r\n%s" % (self.head, len(body), body))
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line[15:])
                    for line in head.split(b"\r\n")
                    if line[:15].lower() == b"content-length:"
                )
                content = await reader.readexactly(length)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, StopIteration) as exc:
            writer.close()
            self.opened -= 1
            raise ClientError(type(exc).__name__) from exc
        self.idle.put_nowait((reader, writer))
        return int(head[9:12]), content

    async def aclose(self) -> None:
        while not self.idle.empty():
            _reader, writer = self.idle.get_nowait()
            writer.close()


class HttpxClient:
    """The same requests through httpx (`--client httpx`)."""

    def __init__(self, url: str, api_key: str, connections: int) -> None:
        self.client = httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            timeout=30.0,
        )
        # Requests beyond the connections wait here, not in httpx's pool, whose scheduling
        # costs time in proportion to the requests waiting in it.
        self.connections = asyncio.Semaphore(connections)

    async def post(self, body: bytes) -> tuple[int, bytes]:
        try:
            async with self.connections:
                response = await self.client.post("/api/v1/events", content=body)
        except httpx.HTTPError as exc:
            raise ClientError(type(exc).__name__) from exc
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self.client.aclose()


async def generate(spec: LoadSpec) -> LoadResult:
    result = LoadResult()
    rng = random.Random(spec.seed)
    warm = int(spec.rate * spec.warmup)
    total = warm + int(spec.rate * spec.seconds)
    interval = 1.0 / spec.rate
    first_enrollments: dict[str, list[int]] = {}
    answered: list[float] = []
    statuses: Counter[str] = Counter()
    fresh = iter(spec.contact_ids)
    clock = time.perf_counter  # uvloop's loop.time() only has millisecond resolution
    client = (HttpxClient if spec.client == "httpx" else RawClient)(
        spec.url, spec.api_key, spec.concurrency
    )

    t0 = clock() + 0.2
    measured_from = t0 + warm * interval

    async def send(at: float, measured: bool, event_id: str, contact_id: int) -> None:
        again = event_id in first_enrollments
        body = json.dumps(
            {"event_id": event_id, "type": "custom", "name": EVENT_NAME, "contact_id": contact_id}
        ).encode()
        try:
            # Waiting for a free connection counts: latency runs from the scheduled time.
            status, content = await client.post(body)
        except ClientError as exc:
            if measured:
                statuses[str(exc)] += 1
            return
        done = clock()
        result.answered_all += status in (200, 201)
        if measured:
            answered.append(done)
            result.latencies_ms.append((done - at) * 1000)
            result.scheduled_s.append(at - measured_from)
            statuses[str(status)] += 1
        if status not in (200, 201):
            return
        out = json.loads(content)
        if again:
            if (status, out["duplicate"], out["enrollment_ids"]) == (
                200,
                True,
                first_enrollments[event_id],
            ):
                result.redeliveries_ok += measured
            else:
                result.unexpected.append(f"redelivery {event_id}: {status} {out}")
            return
        if status != 201 or len(out["enrollment_ids"]) != spec.workflows:
            result.unexpected.append(f"new {event_id}: {status} {out}")
            return
        first_enrollments[event_id] = out["enrollment_ids"]
        result.acknowledged.append(event_id)

    tasks = []
    for i in range(total):
        at = t0 + i * interval
        # Behind schedule, sleep(0) still lets the answers in before the next send.
        await asyncio.sleep(max(0.0, at - clock()))
        measured = i >= warm
        if measured:
            result.send_lag_ms.append(max(0.0, (clock() - at) * 1000))
        # Redeliver an id already answered (its first result is known), else a new one.
        if result.acknowledged and rng.random() < spec.redeliveries:
            event_id = rng.choice(result.acknowledged)
            contact_id = int(event_id.split("-")[1])
            result.redeliveries_sent += measured
        else:
            contact_id = next(fresh)
            event_id = f"bench-{contact_id}"
            result.new_sent += measured
            result.new_ids_sent += 1
        tasks.append(asyncio.create_task(send(at, measured, event_id, contact_id)))
    await asyncio.gather(*tasks)
    await client.aclose()
    result.sent = total - warm
    result.warmup_sent = warm
    result.statuses = dict(statuses)
    if answered:
        last = max(answered)
        result.wall_seconds = last - measured_from
        buckets = Counter(int(a - measured_from) for a in answered)
        result.answered_per_second = [buckets[s] for s in range(int(last - measured_from) + 1)]
    return result


def run_load_process(spec_path: Path, out_path: Path) -> None:
    spec = LoadSpec(**json.loads(spec_path.read_text()))
    try:
        import uvloop  # optional: the cheaper event loop, when installed

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(generate(spec))
    out_path.write_text(json.dumps(asdict(result)))


# --- orchestration ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def started(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")


def _tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of process `root` and its live descendants (uvicorn's
    supervisor and its workers), from /proc: no psutil needed, Linux only."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        # The command name (field 2) may hold spaces: the fields that follow start after ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew, tree = bool(more), tree | more
    return sum(used.get(pid, 0.0) for pid in tree)


def wait_cpu_settled(root: int, *, quiet_s: float = 0.05, timeout_s: float = 30.0) -> None:
    """Wait until the server's processes are idle (every worker has imported and bootstrapped:
    `wait_ready` only knows that one of them answers), so their start is not counted."""
    deadline = time.monotonic() + timeout_s
    last = _tree_cpu_seconds(root)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _tree_cpu_seconds(root)
        if now - last < quiet_s:
            return
        last = now


@dataclass(frozen=True, slots=True)
class Checked:
    events_stored: int
    acknowledged_missing: int  # answered 201 but not stored: lost
    stored_unanswered: int  # stored although the client saw an error (a timeout)
    enrollments: int
    expected_enrollments: int
    lost_enrollments: int
    duplicated: int
    enrolled_column_wrong: int


def check_database(url: str, seeded: Seeded, load: LoadResult, workflows: int) -> Checked:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        stored = {
            external_id: event_id
            for event_id, external_id in session.execute(
                select(WorkflowEvent.id, WorkflowEvent.external_id).where(
                    WorkflowEvent.account_id == seeded.account_id
                )
            )
        }
        enrolled_column: dict[int, int] = dict(
            session.execute(
                select(WorkflowEvent.id, WorkflowEvent.enrolled).where(
                    WorkflowEvent.account_id == seeded.account_id
                )
            ).all()
        )
        per_event: Counter[int] = Counter()
        for event_id, count in session.execute(
            select(Enrollment.event_id, func.count()).group_by(Enrollment.event_id)
        ):
            per_event[event_id] = count
        triples = session.execute(
            select(func.count()).select_from(
                select(Enrollment.workflow_id, Enrollment.event_id, Enrollment.contact_id)
                .group_by(Enrollment.workflow_id, Enrollment.event_id, Enrollment.contact_id)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        # Each event names its own contact: a contact twice in one workflow is a duplicate.
        pairs = session.execute(
            select(func.count()).select_from(
                select(Enrollment.workflow_id, Enrollment.contact_id)
                .group_by(Enrollment.workflow_id, Enrollment.contact_id)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        enrollments = session.execute(select(func.count()).select_from(Enrollment)).scalar_one()
    engine.dispose()
    acknowledged = set(load.acknowledged)
    lost = sum(max(0, workflows - per_event[eid]) for eid in stored.values())
    extra = sum(max(0, n - workflows) for n in per_event.values())
    return Checked(
        events_stored=len(stored),
        acknowledged_missing=len(acknowledged - stored.keys()),
        stored_unanswered=len(stored.keys() - acknowledged),
        enrollments=enrollments,
        expected_enrollments=len(stored) * workflows,
        lost_enrollments=lost,
        duplicated=triples + pairs + extra,
        enrolled_column_wrong=sum(1 for n in enrolled_column.values() if n != workflows),
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True, slots=True)
class Figures:
    name: str
    workers: int
    target: float
    achieved: float
    sent: int
    unique: int
    redeliveries: int
    errors: dict[str, int]
    p50: float
    p90: float
    p99: float
    max: float
    lost: int
    duplicated: int
    redeliveries_ok: int
    cpu_ms_per_event: float  # the API processes' CPU over the load (warm-up included)
    events_per_cpu_s: float

    def verdicts(self) -> list[tuple[str, bool, str]]:
        return [
            (f"rate >= {self.target:g}/s sustained", self.achieved >= 0.99 * self.target,
             f"{self.achieved:.1f}/s answered"),
            (f"p99 < {TARGET_P99_MS:g} ms", self.p99 < TARGET_P99_MS, f"p99 {self.p99:.1f} ms"),
            ("0 lost", self.lost == 0, f"{self.lost} lost"),
            ("0 duplicated", self.duplicated == 0, f"{self.duplicated} duplicated"),
        ]  # fmt: skip


def run_one(name: str, server_url: str | None, args: argparse.Namespace) -> Figures:
    unique_max = int(args.rate * (args.seconds + args.warmup)) + 1
    print(f"\n== {name}: {args.workers} server worker(s), {os.cpu_count()} cores ==", flush=True)
    with scratch_database(server_url) as url, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        seeded = seed(url, contacts=unique_max, workflows=args.workflows)
        print(
            f"seeded {len(seeded.contact_ids):,} contacts with CRM-form consent and "
            f"{len(seeded.workflow_ids)} published workflows in "
            f"{time.perf_counter() - began:.1f} s",
            flush=True,
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = os.environ | {
            "RINGFENCE_DATABASE_URL": url,
            "RINGFENCE_SECRET_KEY": secrets.token_urlsafe(48),
            "RINGFENCE_SECRET_KEY_FILE": str(folder / "secret.key"),
        }
        server_command = [
            sys.executable, "-m", "uvicorn", "--factory", "bench_events:server_app",
            "--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(args.workers), "--no-access-log", "--log-level", "warning",
            # The load's connections stay open between requests for the whole run.
            "--timeout-keep-alive", "120",
        ]  # fmt: skip
        spec = LoadSpec(
            url=base,
            api_key=seeded.api_key,
            rate=args.rate,
            seconds=args.seconds,
            warmup=args.warmup,
            contact_ids=seeded.contact_ids,
            redeliveries=args.redeliveries,
            workflows=args.workflows,
            concurrency=args.concurrency,
            client=args.client,
        )
        (folder / "spec.json").write_text(json.dumps(asdict(spec)))
        with ExitStack() as stack:
            server = stack.enter_context(started(server_command, env, folder / "server.log"))
            wait_ready(base, server, folder / "server.log")
            if args.with_runner:
                stack.enter_context(
                    started([sys.executable, __file__, "_background"], env, folder / "bg.log")
                )
            wait_cpu_settled(server.pid)
            cpu_before = _tree_cpu_seconds(server.pid)
            subprocess.run(
                [sys.executable, __file__, "_load", str(folder / "spec.json"),
                 str(folder / "load.json")],
                check=True,
            )  # fmt: skip
            server_cpu_s = _tree_cpu_seconds(server.pid) - cpu_before
        load = LoadResult(**json.loads((folder / "load.json").read_text()))
        checked = check_database(url, seeded, load, args.workflows)
    return report(name, args, load, checked, server_cpu_s)


def report(
    name: str, args: argparse.Namespace, load: LoadResult, checked: Checked, server_cpu_s: float
) -> Figures:
    ok = sum(n for status, n in load.statuses.items() if status in ("200", "201"))
    errors = {s: n for s, n in sorted(load.statuses.items()) if s not in ("200", "201")}
    achieved = ok / load.wall_seconds if load.wall_seconds else 0.0
    steady = load.answered_per_second[1:-1] or load.answered_per_second
    lat = load.latencies_ms
    lost = checked.acknowledged_missing + checked.lost_enrollments
    figures = Figures(
        name=name,
        workers=args.workers,
        target=args.rate,
        achieved=achieved,
        sent=load.sent,
        unique=load.new_sent,
        redeliveries=load.redeliveries_sent,
        errors=errors,
        p50=percentile(lat, 0.50),
        p90=percentile(lat, 0.90),
        p99=percentile(lat, 0.99),
        max=max(lat, default=float("nan")),
        lost=lost,
        duplicated=checked.duplicated,
        redeliveries_ok=load.redeliveries_ok,
        cpu_ms_per_event=server_cpu_s * 1000 / load.answered_all if load.answered_all else 0.0,
        events_per_cpu_s=load.answered_all / server_cpu_s if server_cpu_s else 0.0,
    )
    print(
        f"target {args.rate:g}/s for {args.seconds:g} s: sent {load.sent:,} "
        f"({load.new_sent:,} new ids, {load.redeliveries_sent:,} redeliveries), after "
        f"{load.warmup_sent:,} in a {args.warmup:g} s warm-up"
    )
    print(
        f"achieved {achieved:.1f}/s answered ({ok:,} in {load.wall_seconds:.1f} s); "
        f"answers per second: min {min(steady, default=0)}, max {max(steady, default=0)}"
    )
    print(
        "answers: "
        + ", ".join(f"{s} x {n:,}" for s, n in sorted(load.statuses.items()))
        + f"; errors: {errors or 'none'}"
    )
    print(
        f"latency ms (from the scheduled send): p50 {figures.p50:.1f}, p90 {figures.p90:.1f}, "
        f"p99 {figures.p99:.1f}, max {figures.max:.1f}; generator lag p99 "
        f"{percentile(load.send_lag_ms, 0.99):.1f} ms"
    )
    windows: dict[int, list[float]] = {}
    for at, ms in zip(load.scheduled_s, lat, strict=True):
        windows.setdefault(int(at // 10), []).append(ms)
    print(
        f"server CPU (the API processes, user + system, warm-up included; not the load "
        f"generator, not a PostgreSQL server): {server_cpu_s:.1f} s for "
        f"{load.answered_all:,} answered events = {figures.cpu_ms_per_event:.2f} ms per event, "
        f"{figures.events_per_cpu_s:,.0f} events per CPU-second"
    )
    print(
        "p99 ms by 10 s of the schedule: "
        + ", ".join(f"{percentile(v, 0.99):,.0f}" for _w, v in sorted(windows.items()))
    )
    print(
        f"database (warm-up included): events stored {checked.events_stored:,} (unique ids "
        f"sent {load.new_ids_sent:,}, acknowledged {len(load.acknowledged):,}, acknowledged but "
        f"missing {checked.acknowledged_missing}, stored after a client error "
        f"{checked.stored_unanswered}); enrollments {checked.enrollments:,} (expected "
        f"{checked.expected_enrollments:,} = {checked.events_stored:,} x {args.workflows}); "
        f"lost {checked.lost_enrollments}, duplicated {checked.duplicated}, events with a wrong "
        f"enrolled count {checked.enrolled_column_wrong}"
    )
    print(
        f"redeliveries answered 200 duplicate with the first delivery's enrollments: "
        f"{load.redeliveries_ok:,} of {load.redeliveries_sent:,}; contract breaches: "
        f"{len(load.unexpected)}"
    )
    for line in load.unexpected[:5]:
        print(f"  {line}")
    for label, met, detail in figures.verdicts():
        print(f"verdict {label}: {'MET' if met else 'NOT MET'} ({detail})", flush=True)
    return figures


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        run_load_process(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_background":
        run_background()
        return
    # Stopped (SIGTERM), still stop the server and drop the database on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rate", type=float, default=500.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--workflows", type=int, default=2, help="published matching workflows")
    parser.add_argument("--redeliveries", type=float, default=0.05, help="share of redeliveries")
    parser.add_argument("--concurrency", type=int, default=64, help="client connections")
    parser.add_argument(
        "--client", choices=["raw", "httpx"], default="raw", help="the load's HTTP client"
    )
    parser.add_argument(
        "--with-runner", action="store_true", help="also run the workflow runner and dispatcher"
    )
    args = parser.parse_args()
    runs = []
    if args.database in ("both", "sqlite"):
        runs.append(run_one("SQLite", None, args))
    if args.database in ("both", "postgresql"):
        runs.append(run_one("PostgreSQL", args.postgres, args))
    if runs:
        header = (
            f"\n{'database':<12}{'workers':>8}{'target/s':>9}{'achieved/s':>11}{'sent':>8}"
            f"{'errors':>7}{'p50 ms':>11}{'p90 ms':>11}{'p99 ms':>11}{'max ms':>11}{'lost':>6}"
            f"{'dup.':>6}{'CPU ms/ev':>10}{'ev/CPU-s':>9}"
        )
        print(header)
        print("-" * len(header))
        for f in runs:
            print(
                f"{f.name:<12}{f.workers:>8}{f.target:>9g}{f.achieved:>11.1f}{f.sent:>8,}"
                f"{sum(f.errors.values()):>7}{f.p50:>11,.1f}{f.p90:>11,.1f}{f.p99:>11,.1f}"
                f"{f.max:>11,.1f}{f.lost:>6}{f.duplicated:>6}"
                f"{f.cpu_ms_per_event:>10.2f}{f.events_per_cpu_s:>9,.0f}"
            )


if __name__ == "__main__":
    main()
