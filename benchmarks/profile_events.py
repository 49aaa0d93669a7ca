"""Where an ingested event's CPU goes: `POST /api/v1/events` in one process under cProfile.

    .venv/bin/python benchmarks/profile_events.py [--events 3000] [--top 30] [--database URL]

Seeds a throw-away SQLite database (or a scratch PostgreSQL one with `--database`) the way
`bench_events.py` does, builds the app `ringfence serve` serves and drives it as an ASGI app
from a bare asyncio loop (no HTTP client, no server: their cost would drown the route's).
Two passes over fresh events (5 % redeliveries):

1. measured: the thread pool as in production, no profiler; prints the process CPU per event
   (what the app costs, routing, validation, dependencies, thread-pool trips and database
   included; uvicorn's HTTP parsing not);
2. profiled: cProfile only sees the thread it runs in, so here the thread-pool calls run inline
   on the loop (the trips themselves are the measured pass's business) and the top functions
   by own and by cumulative time are printed, with how many thread-pool trips a request took.

A profile, not a benchmark: figures for the shape of the request path, not a verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import secrets
import tempfile
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from bench_events import EVENT_NAME, seed  # this folder: the script's own, on sys.path
from ringfence.bootstrap import bootstrap
from ringfence.config import Settings
from ringfence.entrypoints.asgi import create_app
from ringfence.simulation.databases import scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000, help="events per pass")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--database", default=None, help="a PostgreSQL server URL")
    args = parser.parse_args()
    with scratch_database(args.database) as url, tempfile.TemporaryDirectory() as tmp:
        seeded = seed(url, contacts=2 * args.events + 100, workflows=2)
        container = bootstrap(
            Settings(
                database_url=url,
                secret_key=secrets.token_urlsafe(48),
                secret_key_file=Path(tmp) / "secret.key",
            )
        )
        app = create_app(container)
        header = f"Bearer {seeded.api_key}".encode()
        contacts = iter(seeded.contact_ids)
        asyncio.run(_send_all(app, header, _bodies(contacts, 50)))  # warm: caches, connections
        measured = _bodies(contacts, args.events)
        cpu = time.process_time()
        asyncio.run(_send_all(app, header, measured))
        cpu = time.process_time() - cpu
        profiled = _bodies(contacts, args.events)
        profiler, trips = cProfile.Profile(), [0]
        real_run_sync = anyio.to_thread.run_sync

        async def inline(func: Callable[..., Any], *fargs: Any, **_kw: Any) -> Any:
            trips[0] += 1
            return func(*fargs)

        anyio.to_thread.run_sync = inline  # type: ignore[assignment]
        try:
            profiler.enable()
            asyncio.run(_send_all(app, header, profiled))
            profiler.disable()
        finally:
            anyio.to_thread.run_sync = real_run_sync
        container.close()
    print(
        f"measured pass: {len(measured):,} events, {cpu * 1000 / len(measured):.2f} ms of CPU per "
        f"event (the app, the thread pool and the database; no HTTP server or client)"
    )
    print(f"profiled pass: {trips[0] / len(profiled):.1f} thread-pool trips per request")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
        print(f"\n--- by {order} ({len(profiled):,} events) ---")
        print(out.getvalue().split("\n\n", 1)[-1].strip())


def _bodies(contacts: Any, count: int) -> list[bytes]:
    """`count` events, 5 % of them redeliveries of one sent before in the same list."""
    rng, sent, bodies = random.Random(7), list[int](), list[bytes]()
    while len(bodies) < count:
        if sent and rng.random() < 0.05:
            contact_id = rng.choice(sent)
        else:
            contact_id = next(contacts)
            sent.append(contact_id)
        bodies.append(
            json.dumps(
                {"event_id": f"bench-{contact_id}", "type": "custom", "name": EVENT_NAME,
                 "contact_id": contact_id}
            ).encode()
        )  # fmt: skip
    return bodies


async def _send_all(app: FastAPI, authorization: bytes, bodies: list[bytes]) -> None:
    for body in bodies:
        status = await _post(app, authorization, body)
        if status not in (200, 201):
            raise SystemExit(f"unexpected answer {status}")


async def _post(app: FastAPI, authorization: bytes, body: bytes) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/events", "raw_path": b"/api/v1/events",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"authorization", authorization),
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.sleep(3600)  # nothing more: a disconnect would only come later
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


if __name__ == "__main__":
    main()
