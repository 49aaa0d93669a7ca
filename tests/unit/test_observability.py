"""The example alert file parses and names real series; JSON log lines carry the request and
call ids and pass the PHI scrubbing; metric labels stay bounded."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from prometheus_client import REGISTRY

from ringfence.adapters import metrics
from ringfence.log_context import (
    REQUEST_ID,
    ContextFields,
    JsonFormatter,
    bound_call,
    request_id_from,
)
from ringfence.log_safety import AccessLogWithoutQuery, PhiScrubber
from ringfence.services.live_media import observe_call

ALERTS = Path(__file__).parents[2] / "docs" / "prometheus-alerts.yml"


def test_the_example_alert_file_parses_and_names_our_series() -> None:
    document = yaml.safe_load(ALERTS.read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    names = {rule["alert"] for rule in rules}
    assert {
        "RingfenceCallsDeferredByBrokenWindow",
        "RingfenceDispatcherLag",
        "RingfenceVoiceToVoiceP95",
    } <= names
    # Series a labelled family exposes once used, by its type; the gauges /metrics reads
    # from the database at scrape time are not on the registry.
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    exposed = {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in suffixes.get(family.type, ("",))
    } | {"ringfence_database_up", "ringfence_queue_depth", "ringfence_live_calls"}
    for rule in rules:
        assert rule["expr"].strip()
        assert rule["annotations"]["summary"]
        for series in re.findall(r"ringfence_[a-z_]+", rule["expr"]):
            assert series in exposed, (rule["alert"], series)


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    for log_filter in (ContextFields(), AccessLogWithoutQuery(), PhiScrubber()):
        handler.addFilter(log_filter)
    logger = logging.getLogger("ringfence.test.jsonlog")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def test_json_lines_carry_request_and_call_ids_scrubbed(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_log
    token = REQUEST_ID.set("req-12345678")
    try:
        with bound_call(42):
            logger.info("dialing %s", "+12125550173")
        logger.warning("outside a call")
    finally:
        REQUEST_ID.reset(token)
    logger.info("outside a request")

    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["request_id"] == "req-12345678"
    assert first["call_id"] == 42
    assert first["level"] == "INFO"
    assert first["logger"] == "ringfence.test.jsonlog"
    assert "2125550173" not in first["message"]
    assert first["message"].endswith("73")
    assert second["call_id"] is None
    assert second["request_id"] == "req-12345678"
    assert third["request_id"] is None


def test_a_json_exception_is_scrubbed(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    try:
        raise ValueError("no route for +12125550173")
    except ValueError:
        logger.exception("failed")
    entry = json.loads(stream.getvalue())
    assert "ValueError" in entry["exception"]
    assert "2125550173" not in entry["exception"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("trace-abc-12345", True),
        ("12125550173", False),  # digits alone could be a number
        ("+12125550173", False),
        ("short", False),
        ("x" * 65, False),
        ("a b c d e f g h", False),
        (None, False),
    ],
)
def test_request_ids_from_clients_are_kept_only_when_sane(given: str | None, kept: bool) -> None:
    assert (request_id_from(given) == given) is kept


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_labels_outside_their_enum_become_other() -> None:
    before = _sample("ringfence_gate_decisions_total", verdict="other", reason="other")
    metrics.gate_decisions([("maybe", "+12125550173")])
    metrics.carrier_error("acme", "dial")
    after = _sample("ringfence_gate_decisions_total", verdict="other", reason="other")
    assert after == before + 1
    assert _sample("ringfence_carrier_errors_total", carrier="other", operation="dial") >= 1


def test_a_finished_live_call_is_observed() -> None:
    def count(name: str) -> float:
        return _sample(f"ringfence_{name}_seconds_count", direction="outbound")

    before = [count(n) for n in ("voice_to_voice", "stt", "tts_first_chunk")]
    amd_before = _sample("ringfence_amd_decisions_total", verdict="machine")
    turn = SimpleNamespace(voice_to_voice_ms=420.0, stt_ms=120.0, tts_first_chunk_ms=80.0)
    result = SimpleNamespace(
        latencies=(turn, turn), amd=SimpleNamespace(verdict=SimpleNamespace(value="machine"))
    )

    observe_call(result, direction="outbound")  # type: ignore[arg-type]

    after = [count(n) for n in ("voice_to_voice", "stt", "tts_first_chunk")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 2, 2]
    assert _sample("ringfence_amd_decisions_total", verdict="machine") == amd_before + 1
