"""A worker's own /metrics port answers its counters, and asks for the metrics token when one is
set (it used to be open whatever the setting)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from ringfence.adapters import metrics as series  # declares the series a worker counts
from ringfence.entrypoints.worker.metrics import serve_worker_metrics

TOKEN = "w" * 32
SERIES = series.GATE_DECISIONS  # its family must be on the port


@pytest.fixture
def guarded_port() -> Iterator[str]:
    server, thread = serve_worker_metrics("127.0.0.1", 0, TOKEN)
    try:
        yield f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_worker_port_asks_for_the_token(guarded_port: str) -> None:
    assert httpx.get(guarded_port).status_code == 401
    wrong = httpx.get(guarded_port, headers={"Authorization": "Bearer " + "x" * 32})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    right = httpx.get(guarded_port, headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200
    assert "ringfence_gate_decisions" in right.text


def test_without_a_token_the_port_is_open() -> None:
    server, thread = serve_worker_metrics("127.0.0.1", 0, None)
    try:
        answer = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics")
        assert answer.status_code == 200
        assert "ringfence_gate_decisions" in answer.text
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.skipif(not socket.has_ipv6, reason="this machine has no IPv6")
def test_the_port_serves_on_an_ipv6_host() -> None:
    try:
        server, thread = serve_worker_metrics("::1", 0, None)
    except OSError as exc:  # IPv6 compiled in but no loopback address configured
        pytest.skip(f"no IPv6 loopback here: {exc}")
    try:
        answer = httpx.get(f"http://[::1]:{server.server_port}/metrics")
        assert answer.status_code == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
