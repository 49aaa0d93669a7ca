"""The process's Prometheus series that are counted as things happen (`prometheus-client`).

Prometheus' text format is the field's standard: every monitoring stack scrapes it, so
operators watch Ringfence with what they already run. The series live on the client's default
registry, one per process: `ringfence serve` answers them at `/metrics`, a separate
`ringfence worker` on its own port (docs/operations.md). What is read from the database at
scrape time (calls by status, queue depth, live calls) is not here: see
`entrypoints/api/metrics.py`.

No PHI in a label, ever: every label value is a bounded enum (a verdict, a reason code, a
carrier kind, a result), passed through `_bounded` so that a value outside its enum becomes
"other" rather than a new series. Only the imperative shell (services, adapters) records
here; the domain core stays pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from prometheus_client import Counter, Histogram

from ringfence.domain.compliance import ReasonCode
from ringfence.domain.vocabulary import CarrierKind
from ringfence.speech.amd import AmdVerdict

NO_REASON: Final = "none"
OTHER: Final = "other"

GATE_VERDICTS: Final = frozenset({"dial", "defer", "fail", "location_blocked"})
REASON_VALUES: Final = frozenset(code.value for code in ReasonCode) | {NO_REASON}
CARRIER_KINDS: Final = frozenset(kind.value for kind in CarrierKind)
CARRIER_OPERATIONS: Final = frozenset({"dial", "lookup"})
AMD_VERDICTS: Final = frozenset(verdict.value for verdict in AmdVerdict)
WEBHOOK_RESULTS: Final = frozenset({"delivered", "retrying", "failed"})
DIRECTIONS: Final = frozenset({"outbound", "inbound"})

# Dispatcher lag: a tick a second makes most dials wait under 2 s; pacing and a stopped
# worker make the long tail this alerts on.
LAG_BUCKETS: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)
# Speech stages in seconds: the voice-to-voice goal is 0.5 s (p50), 1 s is a bad call.
SPEECH_BUCKETS: Final = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0)

GATE_DECISIONS: Final = Counter(
    "ringfence_gate_decisions",
    "Compliance gate decisions the dispatcher applied, by verdict and reason code",
    ["verdict", "reason"],
)
DISPATCH_LAG: Final = Histogram(
    "ringfence_dispatch_lag_seconds",
    "From a call job's due time to its dial (includes the location's pacing waits)",
    buckets=LAG_BUCKETS,
)
CARRIER_ERRORS: Final = Counter(
    "ringfence_carrier_errors",
    "Carrier requests that failed, by carrier kind and operation",
    ["carrier", "operation"],
)
AMD_DECISIONS: Final = Counter(
    "ringfence_amd_decisions",
    "Answering-machine detection verdicts of live calls",
    ["verdict"],
)
WEBHOOK_DELIVERIES: Final = Counter(
    "ringfence_webhook_deliveries",
    "Workflow webhook delivery attempts, by result (failed: given up after the last retry)",
    ["result"],
)
VOICE_TO_VOICE: Final = Histogram(
    "ringfence_voice_to_voice_seconds",
    "Live calls: end of the callee's speech to the agent's first audio, per turn",
    ["direction"],
    buckets=SPEECH_BUCKETS,
)
STT_LATENCY: Final = Histogram(
    "ringfence_stt_seconds",
    "Live calls: speech-to-text time of a callee turn (what overran the end-of-turn silence)",
    ["direction"],
    buckets=SPEECH_BUCKETS,
)
TTS_FIRST_CHUNK: Final = Histogram(
    "ringfence_tts_first_chunk_seconds",
    "Live calls: synthesis of a reply's first sentence",
    ["direction"],
    buckets=SPEECH_BUCKETS,
)


def _bounded(value: str | None, allowed: frozenset[str], *, missing: str = OTHER) -> str:
    if value is None:
        return missing
    return value if value in allowed else OTHER


def gate_decisions(decisions: Iterable[tuple[str, str | None]], count: int = 1) -> None:
    """Count (verdict, reason code) pairs the dispatcher applied (after they committed)."""
    for verdict, reason in decisions:
        GATE_DECISIONS.labels(
            verdict=_bounded(verdict, GATE_VERDICTS),
            reason=_bounded(reason, REASON_VALUES, missing=NO_REASON),
        ).inc(count)


def dispatch_lags(seconds: Iterable[float]) -> None:
    for lag in seconds:
        DISPATCH_LAG.observe(max(0.0, lag))


def carrier_error(carrier: str, operation: str) -> None:
    CARRIER_ERRORS.labels(
        carrier=_bounded(carrier, CARRIER_KINDS), operation=_bounded(operation, CARRIER_OPERATIONS)
    ).inc()


def amd_decision(verdict: str) -> None:
    AMD_DECISIONS.labels(verdict=_bounded(verdict, AMD_VERDICTS)).inc()


def webhook_delivery(result: str) -> None:
    WEBHOOK_DELIVERIES.labels(result=_bounded(result, WEBHOOK_RESULTS)).inc()


def speech_turn(
    direction: str, *, voice_to_voice_ms: float, stt_ms: float, tts_first_chunk_ms: float
) -> None:
    """One callee turn of a live call (the pipeline's `TurnLatency`, in milliseconds)."""
    label = _bounded(direction, DIRECTIONS)
    VOICE_TO_VOICE.labels(direction=label).observe(voice_to_voice_ms / 1000)
    STT_LATENCY.labels(direction=label).observe(stt_ms / 1000)
    TTS_FIRST_CHUNK.labels(direction=label).observe(tts_first_chunk_ms / 1000)


def _declare_label_sets() -> None:
    # Series with labels appear only once used: declaring the usual ones up front makes a
    # fresh process show them at zero, so rate() and alerts see a 0 -> 1 step, not nothing.
    for verdict in AMD_VERDICTS:
        AMD_DECISIONS.labels(verdict=verdict)
    for result in WEBHOOK_RESULTS:
        WEBHOOK_DELIVERIES.labels(result=result)
    for direction in DIRECTIONS:
        for histogram in (VOICE_TO_VOICE, STT_LATENCY, TTS_FIRST_CHUNK):
            histogram.labels(direction=direction)


_declare_label_sets()
