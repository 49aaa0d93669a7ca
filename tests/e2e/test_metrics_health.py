"""Operators' endpoints: /metrics after a sandbox call (the series, sensible values, no PHI),
/readyz (ready, and 503 with the database down), /healthz, and request ids."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import make_url, text

from ringfence.bootstrap import Container, bootstrap
from ringfence.clock import VirtualClock
from ringfence.config import Settings
from ringfence.entrypoints.asgi import create_app
from tests.conftest import Tenant
from tests.e2e.sandbox_practice import dial_when_the_window_opens, practice_over_api
from tests.integration.dispatch.practice import WINDOW_OPENS

PATIENT_FIRST, PATIENT_LAST, PATIENT_PHONE = "Zephyrine", "Quillfeather", "+12125550173"


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(text: str, name: str, **labels: str) -> float:
    return _samples(text).get((name, frozenset(labels.items())), 0.0)


def test_metrics_after_a_sandbox_call(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> None:
    before = client.get("/metrics").text
    clock.set(WINDOW_OPENS - timedelta(days=1))
    practice = practice_over_api(client, container, tenant)
    called = practice.add_contact(PATIENT_PHONE, first_name=PATIENT_FIRST, last_name=PATIENT_LAST)
    refused = practice.add_contact("+12125550174", consent=False, first_name=PATIENT_FIRST)
    practice.enqueue(called, refused)

    dial_when_the_window_opens(container, clock)
    scraped = client.get("/metrics")

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    after = scraped.text
    # From the database: the call completed, the refused one failed for its reason, nothing
    # is left due or on a line.
    assert _value(after, "ringfence_call_jobs", status="completed") == 1
    assert _value(after, "ringfence_call_jobs", status="failed") == 1
    assert _value(after, "ringfence_call_jobs_by_reason", reason="no_opt_in") == 1
    assert _value(after, "ringfence_queue_depth") == 0
    assert _value(after, "ringfence_live_calls", direction="outbound") == 0
    assert _value(after, "ringfence_live_calls", direction="inbound") == 0
    assert _value(after, "ringfence_database_up") == 1

    # Counted in this process as the dispatcher applied the gate (the registry is the
    # process's: compare with the scrape before the call).
    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("ringfence_gate_decisions_total", verdict="dial", reason="none") == 1
    assert grew("ringfence_gate_decisions_total", verdict="fail", reason="no_opt_in") == 1
    assert grew("ringfence_dispatch_lag_seconds_count") == 1
    # The job was due at its enqueueing, a day before the window opened: the lag says so.
    assert grew("ringfence_dispatch_lag_seconds_sum") >= timedelta(days=1).total_seconds()
    families = {family.name for family in text_string_to_metric_families(after)}
    assert {
        "ringfence_carrier_errors",
        "ringfence_amd_decisions",
        "ringfence_webhook_deliveries",
        "ringfence_voice_to_voice_seconds",
        "ringfence_stt_seconds",
        "ringfence_tts_first_chunk_seconds",
    } <= families

    # No PHI anywhere in the scrape: names, numbers (any form), contact ids as labels.
    for secret in (PATIENT_FIRST, PATIENT_LAST, PATIENT_PHONE, PATIENT_PHONE[2:], "5550173"):
        assert secret not in after
    assert "contact" not in after.lower()


def test_metrics_and_readyz_are_not_in_the_api_document(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert not {"/metrics", "/readyz", "/healthz"} & set(paths)


def test_metrics_token_is_asked_for_when_set(client: TestClient, container: Container) -> None:
    container.settings.metrics_token = SecretStr("m" * 32)
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": f"Bearer {'x' * 32}"})
    assert wrong.status_code == 401
    right = client.get("/metrics", headers={"Authorization": f"Bearer {'m' * 32}"})
    assert right.status_code == 200
    assert "ringfence_call_jobs" in right.text


def test_readyz_lists_each_check(client: TestClient) -> None:
    answer = client.get("/readyz")

    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ready"
    checks = body["checks"]
    assert checks["database"]["ok"] is True
    assert checks["migrations"]["ok"] is True
    assert checks["migrations"]["detail"].startswith("at head")
    # Sandbox only: the speech engines are reported, not required.
    assert checks["speech"] == {
        "ok": True,
        "required": False,
        "detail": checks["speech"]["detail"],
    }
    assert checks["carrier_sandbox"]["ok"] is True
    assert client.get("/healthz").json()["status"] == "ok"


def test_readyz_reports_an_unconfigured_live_carrier(
    client: TestClient, container: Container
) -> None:
    container.settings.carrier = "twilio"
    container.settings.speech_engines = "fake"  # the engines the test machine always has

    body = client.get("/readyz").json()

    assert body["checks"]["carrier_twilio"]["ok"] is False
    assert "twilio_account_sid" in body["checks"]["carrier_twilio"]["detail"]
    assert body["checks"]["speech"]["required"] is True
    assert body["checks"]["speech"]["ok"] is True
    assert body["status"] == "ready"  # a carrier is reported: its calls fail with reasons


@pytest.fixture
def database_down(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database URL nothing answers at: a closed port (PostgreSQL), a directory that does
    not exist (SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        yield url.set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('gone') / 'missing' / 'ringfence.db'}"


def test_readyz_fails_when_the_database_is_down(database_down: str, clock: VirtualClock) -> None:
    down = bootstrap(Settings(database_url=database_down), clock=clock)
    try:
        with TestClient(create_app(down)) as client:
            answer = client.get("/readyz")
            assert client.get("/healthz").status_code == 200  # the process itself is up
            scraped = client.get("/metrics")
    finally:
        down.close()

    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["required"] is True
    # Whoever asks learns that it failed, not the database's address, name or user.
    assert "127.0.0.1" not in answer.text
    assert "missing" not in answer.text
    assert "the server's log says why" in body["checks"]["database"]["detail"]
    assert body["checks"]["migrations"]["ok"] is False
    # /metrics still answers, saying the database could not be read.
    assert scraped.status_code == 200
    assert _value(scraped.text, "ringfence_database_up") == 0


def test_request_ids_are_answered(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "trace-abc-12345"})
    assert given.headers["x-request-id"] == "trace-abc-12345"
    # A phone number (or anything odd) is not taken as an id: a fresh one is made.
    odd = client.get("/healthz", headers={"X-Request-ID": "12125550173"})
    assert odd.headers["x-request-id"] != "12125550173"
    assert len(odd.headers["x-request-id"]) == 32


def test_readyz_fails_when_migrations_are_behind(client: TestClient, container: Container) -> None:
    with container.engine.begin() as connection:
        [head] = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    try:
        answer = client.get("/readyz")
    finally:
        with container.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})

    assert answer.status_code == 503
    check = answer.json()["checks"]["migrations"]
    assert check["ok"] is False
    assert "database at older" in check["detail"]
    assert "ringfence db upgrade" in check["detail"]
