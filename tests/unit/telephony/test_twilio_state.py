"""The Twilio call's state, pure: Twilio's statuses as Ringfence outcomes, news applied only
forward, callbacks parsed, public URLs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ringfence.adapters.telephony.base import CarrierCallState
from ringfence.adapters.telephony.twilio import (
    CallState,
    Observation,
    PublicUrls,
    observation_of_callback,
    observe,
    outcome_of,
    report_of,
)
from ringfence.adapters.telephony.twilio.state import transfer_failure_of
from ringfence.domain.vocabulary import CallOutcome

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
S = timedelta(seconds=1)
QUEUED = CallState(
    idempotency_key="k",
    call_sid="CA1",
    to_e164="+12125550100",
    from_e164="+16465550198",
    requested_at=T0,
    status="queued",
    refused=False,
    answered_by=None,
    answered_at=None,
    ended_at=None,
    carrier_reason=None,
    hung_up_at=None,
    checked_at=T0,
)


@pytest.mark.parametrize(
    ("status", "answered_by", "hung_up", "outcome"),
    [
        ("completed", None, False, CallOutcome.CONNECTED),
        ("completed", "human", False, CallOutcome.CONNECTED),
        ("completed", "unknown", False, CallOutcome.CONNECTED),
        ("completed", "machine_start", False, CallOutcome.VOICEMAIL),
        ("completed", "machine_end_beep", False, CallOutcome.VOICEMAIL),
        ("completed", "machine_end_silence", False, CallOutcome.VOICEMAIL),
        ("completed", "machine_end_other", False, CallOutcome.VOICEMAIL),
        ("completed", "fax", False, CallOutcome.FAILED),
        ("no-answer", None, False, CallOutcome.NO_ANSWER),
        ("busy", None, False, CallOutcome.BUSY),
        ("failed", None, False, CallOutcome.FAILED),
        ("canceled", None, False, CallOutcome.FAILED),
        ("canceled", None, True, CallOutcome.NO_ANSWER),  # Ringfence hung up while it rang
    ],
)
def test_twilio_statuses_map_to_outcomes(
    status: str, answered_by: str | None, hung_up: bool, outcome: CallOutcome
) -> None:
    state = replace(
        QUEUED, status=status, answered_by=answered_by, hung_up_at=T0 + S if hung_up else None
    )
    assert outcome_of(state)[0] is outcome


def test_news_only_moves_a_call_forward_and_the_first_final_word_stands() -> None:
    ringing = observe(QUEUED, Observation("ringing", T0 + S), now=T0 + S)
    answered = observe(ringing, Observation("in-progress", T0 + 5 * S), now=T0 + 5 * S)
    assert (answered.status, answered.answered_at) == ("in-progress", T0 + 5 * S)
    assert observe(answered, Observation("ringing", T0 + 6 * S), now=T0 + 6 * S) == replace(
        answered, checked_at=T0 + 6 * S
    )
    ended = observe(
        answered, Observation("completed", T0 + 65 * S, talk_seconds=60), now=T0 + 66 * S
    )
    assert (ended.status, ended.answered_at, ended.ended_at) == (
        "completed",
        T0 + 5 * S,
        T0 + 65 * S,
    )
    late = observe(ended, Observation("busy", T0 + 70 * S, answered_by="human"), now=T0 + 70 * S)
    assert (late.status, late.ended_at, late.answered_by) == ("completed", T0 + 65 * S, "human")
    report = report_of(late)
    assert report.state is CarrierCallState.COMPLETED
    assert (report.duration_seconds, report.billable_seconds) == (65, 60)


def test_twilios_duration_places_the_answer_of_a_call_seen_answered_late() -> None:
    polled = observe(QUEUED, Observation("in-progress", T0 + 40 * S), now=T0 + 40 * S)
    ended = observe(polled, Observation("completed", T0 + 96 * S, talk_seconds=90), now=T0 + 96 * S)
    assert ended.answered_at == T0 + 6 * S
    assert report_of(ended).billable_seconds == 90


def test_times_from_a_skewed_clock_never_make_negative_durations() -> None:
    early = observe(QUEUED, Observation("no-answer", T0 - 3 * S), now=T0)
    report = report_of(early)
    assert (report.ended_at, report.duration_seconds, report.billable_seconds) == (T0, 0, 0)


def test_a_status_callback_is_parsed_with_its_timestamp_and_reasons() -> None:
    news = observation_of_callback(
        {
            "CallSid": "CA1",
            "CallStatus": "failed",
            "Timestamp": "Fri, 27 Nov 2026 15:00:07 +0000",
            "ErrorCode": "32009",
            "SipResponseCode": "503",
        },
        T0,
    )
    assert news == Observation(
        "failed", T0 + 7 * S, "CA1", ended_at=T0 + 7 * S, reason="Twilio 32009; SIP 503"
    )
    answered = observation_of_callback(
        {"CallSid": "CA1", "CallStatus": "in-progress", "Timestamp": "yesterday"}, T0
    )
    assert (answered.at, answered.ended_at, answered.reason) == (T0, None, None)
    with pytest.raises(ValueError, match="CallSid and CallStatus"):
        observation_of_callback({"CallStatus": "ringing"}, T0)


def test_public_urls_keep_a_proxy_prefix_and_stream_over_wss() -> None:
    urls = PublicUrls.of("https://calls.example.com/ringfence/")
    assert urls.status("a b") == "https://calls.example.com/ringfence/twilio/status?key=a+b"
    assert urls.media("k1") == "wss://calls.example.com/ringfence/twilio/media/k1"
    assert (
        PublicUrls.of("http://localhost:8000").media("k1") == "ws://localhost:8000/twilio/media/k1"
    )
    with pytest.raises(ValueError, match="public base URL"):
        PublicUrls.of("calls.example.com")
    assert urls.dial("k1") == "https://calls.example.com/ringfence/twilio/dial?key=k1"


@pytest.mark.parametrize(
    ("dial_status", "why"),
    [
        ("completed", None),
        ("answered", None),
        ("busy", "the staff line was busy"),
        ("no-answer", "no one on the staff line answered"),
        ("failed", "the staff line could not be reached"),
        ("canceled", "the patient hung up before staff answered"),
        ("queued", "the staff line's dial ended 'queued'"),
    ],
)
def test_how_the_dial_to_staff_ended_is_in_the_calls_report(
    dial_status: str, why: str | None
) -> None:
    assert transfer_failure_of(dial_status) == why
    ended = replace(QUEUED, status="completed", answered_at=T0 + S, ended_at=T0 + 60 * S)
    assert report_of(ended).transfer_failed is None  # no hand-over: nothing to say
    assert report_of(replace(ended, dial_status=dial_status)).transfer_failed == why
