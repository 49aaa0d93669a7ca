"""A line test: one real SIP call to a SIP URI with the agent's speech pipeline, outside the
dispatcher, to check a trunk or PBX before any patient is called (`ringfence call-test`).

It dials SIP URIs only (an extension on the practice's PBX, a test endpoint), and refuses a
`tel:` URI or a SIP URI whose user part is a phone number (`domain/dial_targets.py`): a phone
number belongs to a contact, and every call to a contact goes through a workflow and the
pre-dial compliance gate (consent, calling window, throttles), which this call bypasses.
The agent is a test agent (`line_check_session`), its opening and turns are the built-in
scripted policy's; the result holds the SIP outcome, the transcript and the latency figures
(answer to first audio packet, and per turn the end of the callee's speech to the agent's
first audio, stage by stage).
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass

from ringfence.adapters.telephony.media import MediaSession
from ringfence.adapters.telephony.sip.call import CallResult, SipCall
from ringfence.adapters.telephony.sip.dialog import SipAccount
from ringfence.adapters.telephony.sip.endpoint import EndpointThread
from ringfence.agent.policies.base import DialoguePolicy
from ringfence.agent.profile import AgentProfile, CallContext, CallDirection
from ringfence.agent.session import AgentSession
from ringfence.domain.dial_targets import phone_number_in
from ringfence.domain.vocabulary import CallPurpose
from ringfence.services.live_media import (
    LiveCallSession,
    greeting_transcriber,
    live_amd_config,
)
from ringfence.speech.contracts import SpeechEngines
from ringfence.speech.opening import prepare_opening
from ringfence.speech.pipeline import VoicePipeline
from ringfence.speech.result import PipelineResult
from ringfence.speech.runner import ThreadRunner


class NotASipUri(ValueError):
    """The line test dials SIP URIs only."""


class PhoneNumberTarget(ValueError):
    """The line test never dials a phone number: no consent, window or throttle check runs."""


def check_sip_uri(to: str) -> str:
    """`to` if the line test may dial it; PhoneNumberTarget or NotASipUri otherwise."""
    number = phone_number_in(to)
    if number is not None:
        raise PhoneNumberTarget(
            f"{to!r} dials the phone number {number!r}: the line test calls SIP extensions and "
            "test endpoints only. Calls to phone numbers go through a workflow, and so through "
            "the pre-dial compliance gate (consent, calling window, throttles); to test a "
            "number, use a workflow in test mode"
        )
    if not to.startswith(("sip:", "sips:")) or "@" not in to:
        raise NotASipUri(
            f"{to!r} is not a SIP URI (sip:user@host): the line test dials extensions and test "
            "endpoints only; calls to phone numbers go through workflows and the compliance gate"
        )
    return to


def line_check_session(practice_name: str, callback_number: str) -> AgentSession:
    return AgentSession(
        AgentProfile(practice_name=practice_name, callback_number=callback_number),
        # No patient, no appointment: nothing for the guardrails to withhold.
        CallContext(CallDirection.OUTBOUND, CallPurpose.APPOINTMENT_CONFIRMATION, is_test=True),
    )


@dataclass(frozen=True, slots=True)
class LineCheckResult:
    call: CallResult
    pipeline: PipelineResult | None  # None when the call was not answered


@dataclass(frozen=True, slots=True)
class LineTarget:
    trunk_host: str
    trunk_port: int
    to_uri: str
    caller_id: str
    bind_host: str = "0.0.0.0"
    account: SipAccount | None = None
    ring_timeout_s: float = 30.0
    max_call_s: float = 60.0


def line_check_pipeline(
    session: AgentSession,
    *,
    engines: SpeechEngines,
    policy: DialoguePolicy,
    max_callee_turns: int = 12,
    single_frequency_ringback: bool = False,
) -> VoicePipeline:
    """The pipeline a dispatched call would get: the same answering-machine detector (its
    words heard through the call's speech-to-text, the deployment's ringback), so a line test
    answers as a real call would; the work on its own thread, as on a dispatched call."""
    opening = prepare_opening(
        session, tts=engines.tts, policy=policy, max_callee_turns=max_callee_turns
    )
    return VoicePipeline(
        opening,
        vad=engines.vad,
        stt=engines.stt,
        tts=engines.tts,
        greeting_stt=greeting_transcriber(engines),
        amd_config=live_amd_config(
            engines.vad.frame_ms, single_frequency_ringback=single_frequency_ringback
        ),
        runner=ThreadRunner(),
    )


def place_line_check(
    target: LineTarget,
    session: AgentSession,
    *,
    engines: SpeechEngines,
    policy: DialoguePolicy,
    max_callee_turns: int = 12,
    single_frequency_ringback: bool = False,
) -> LineCheckResult:
    """Place the call, hold it with the pipeline until either side hangs up, return how it went."""
    check_sip_uri(target.to_uri)
    results: list[PipelineResult] = []

    def prepare() -> MediaSession:
        pipeline = line_check_pipeline(
            session,
            engines=engines,
            policy=policy,
            max_callee_turns=max_callee_turns,
            single_frequency_ringback=single_frequency_ringback,
        )
        return LiveCallSession(pipeline, on_finish=results.append)

    endpoint = EndpointThread(
        bind_host=target.bind_host, bind_port=0, trunk=(target.trunk_host, target.trunk_port)
    )
    try:
        call = SipCall(
            endpoint.endpoint,
            target.account or SipAccount(domain=target.trunk_host),
            key="line-test",
            call_id=f"line-test-{secrets.token_hex(8)}@{endpoint.endpoint.local_host}",
            target_uri=target.to_uri,
            caller_id=target.caller_id,
            prepare=prepare,
            ring_timeout_s=target.ring_timeout_s,
            max_call_s=target.max_call_s,
        )
        endpoint.call_soon(endpoint.endpoint.calls.__setitem__, call.call_id, call)
        future = endpoint.submit(call.run())
        try:
            outcome = future.result(timeout=target.ring_timeout_s + target.max_call_s + 40 + 10)
        except KeyboardInterrupt:  # Ctrl-C: hang up properly, then report
            endpoint.call_soon(call.hang_up, "ringfence")
            outcome = future.result(timeout=40)
    finally:
        with contextlib.suppress(Exception):
            endpoint.close()
    return LineCheckResult(outcome, results[0] if results else None)
