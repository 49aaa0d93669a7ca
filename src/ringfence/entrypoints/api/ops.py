"""Operators' endpoints, outside the API document: `/metrics` (Prometheus) and `/readyz`.

`/metrics` answers the process's counters and histograms (`adapters/metrics.py`, counted as
things happen) and gauges read from the database at scrape time (`services/call_metrics.py`:
open jobs at every scrape, settled ones recounted at most once a minute per process): right
from any process, whichever one is scraped. No label holds PHI. With `metrics_token` set, a
scrape must send it as a bearer token; either way the endpoint belongs on
a private network, not the public internet (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from ringfence.adapters.db.engine import READ_ONLY
from ringfence.bootstrap import Container
from ringfence.bootstrap.readiness import readiness
from ringfence.entrypoints.bearer import bearer_matches
from ringfence.services.call_metrics import CallJobCounts

router = APIRouter(include_in_schema=False)


class DatabaseGauges:
    """The gauges read from the database, collected at each scrape."""

    def __init__(self, container: Container) -> None:
        self._container = container

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "ringfence_database_up", "Whether the scrape could read the call jobs (1) or not (0)"
        )
        try:
            with self._container.session_factory() as session:
                # A snapshot read: on SQLite it takes no write lock from the dispatcher.
                session.connection(execution_options={READ_ONLY: True})
                counts = self._container.shared.call_job_counts.counts(
                    session, self._container.clock.now()
                )
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _job_gauges(counts)


def _job_gauges(counts: CallJobCounts) -> Iterable[Metric]:
    by_status = GaugeMetricFamily(
        "ringfence_call_jobs",
        "Call jobs by status (all time, from the database)",
        labels=["status"],
    )
    for name, count in sorted(counts.by_status().items()):
        by_status.add_metric([name], count)
    by_reason = GaugeMetricFamily(
        "ringfence_call_jobs_by_reason",
        "Call jobs by their latest reason code (from the database)",
        labels=["reason"],
    )
    for reason, count in sorted(counts.by_reason().items()):
        by_reason.add_metric([reason], count)
    queue = GaugeMetricFamily(
        "ringfence_queue_depth", "Call jobs queued or deferred and due now (the dispatcher's queue)"
    )
    queue.add_metric([], counts.queue_depth())
    live = GaugeMetricFamily(
        "ringfence_live_calls",
        "Calls holding a carrier line now (dialing, ringing or in progress), by direction",
        labels=["direction"],
    )
    for direction, count in sorted(counts.live_calls().items()):
        live.add_metric([direction], count)
    return (by_status, by_reason, queue, live)


class _Scrape:
    """The default registry and this app's database gauges, as one registry to expose."""

    def __init__(self, *collectors: Collector) -> None:
        self._collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


@router.get("/metrics")
def metrics(request: Request) -> Response:
    container: Container = request.app.state.container
    secret = container.settings.metrics_token
    token = None if secret is None else secret.get_secret_value()
    if not bearer_matches(request.headers.get("authorization", ""), token):
        return JSONResponse(
            {"detail": "metrics need the metrics token"},
            status_code=status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
        )
    scrape = _Scrape(REGISTRY, DatabaseGauges(container))
    return Response(generate_latest(scrape), media_type=CONTENT_TYPE_LATEST)


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    found = readiness(request.app.state.container)
    code = status.HTTP_200_OK if found.ready else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse(found.as_json(), status_code=code)


def install_ops_routes(app: FastAPI) -> None:
    app.include_router(router)
