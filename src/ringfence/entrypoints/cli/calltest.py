"""`ringfence call-test`: one real test call through a carrier, with its transcript and latency.

    ringfence call-test --carrier sip --to sip:200@pbx.example.com [--trunk host:port] [--json]

Only SIP URIs of extensions and test endpoints are dialed: a `tel:` URI or a SIP URI whose user
part is a phone number is refused before anything is sent (calls to phone numbers go through a
workflow and the pre-dial compliance gate; see services/line_check.py). The INVITE goes to
`--trunk`, else to the configured trunk (RINGFENCE_SIP_TRUNK_HOST), else straight to the URI's
host. Exit status 0 when the call was answered and audio flowed both ways, 1 otherwise, 2 for
bad usage (a refused target included).
"""

from __future__ import annotations

import json
import statistics
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from ringfence.adapters.telephony.sip.dialog import SipAccount
from ringfence.adapters.telephony.sip.endpoint import SipUnavailable
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.config import Settings
from ringfence.services.line_check import (
    LineCheckResult,
    LineTarget,
    NotASipUri,
    PhoneNumberTarget,
    check_sip_uri,
    line_check_session,
    place_line_check,
)
from ringfence.services.live_media import engines_of
from ringfence.speech.contracts import SpeechEngineUnavailable

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _usage(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(2)


def host_port(text: str, default_port: int = 5060) -> tuple[str, int]:
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    if not port:
        return text, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    return host, int(port)


def uri_host_port(uri: str) -> tuple[str, int]:
    """The host and port of `sip:user@host:port;params`."""
    return host_port(uri.split("@", 1)[1].split(";", 1)[0])


def call_test(
    to: Annotated[
        str,
        typer.Option(
            "--to", help="SIP URI to call: sip:extension@host[:port] (never a phone number)"
        ),
    ],
    carrier: Annotated[
        str,
        typer.Option("--carrier", help="Carrier to test: sip (Twilio: a workflow in test mode)"),
    ] = "sip",
    trunk: Annotated[
        str | None, typer.Option("--trunk", help="host[:port] the INVITE goes to")
    ] = None,
    caller_id: Annotated[str, typer.Option("--from", help="Caller ID (From user)")] = "ringfence",
    practice: Annotated[
        str, typer.Option("--practice", help="Practice name the test agent says")
    ] = "Ringfence line test",
    callback: Annotated[
        str, typer.Option("--callback", help="Callback number the test agent gives (E.164)")
    ] = "+12125550100",
    engines: Annotated[
        Literal["local", "fake"] | None,
        typer.Option(
            "--engines",
            help="Speech engines, all local or all fake (default: RINGFENCE_STT, "
            "RINGFENCE_TTS and RINGFENCE_VAD, else RINGFENCE_SPEECH_ENGINES)",
        ),
    ] = None,
    max_seconds: Annotated[
        float, typer.Option("--max-seconds", min=1, max=600, help="Hang up after this long")
    ] = 60.0,
    ring_timeout: Annotated[
        float, typer.Option("--ring-timeout", min=5, max=120, help="Cancel after ringing this long")
    ] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Place one real test call (SIP) and print its transcript and latency figures."""
    if carrier != "sip":
        raise _usage(
            f"--carrier {carrier}: only sip is line-tested here; test a Twilio number with a "
            "workflow in test mode"
        )
    settings = Settings()
    try:
        check_sip_uri(to)
        if trunk is not None:
            trunk_host, trunk_port = host_port(trunk)
        elif settings.sip_trunk_host:
            trunk_host, trunk_port = settings.sip_trunk_host, settings.sip_trunk_port
        else:
            trunk_host, trunk_port = uri_host_port(to)
        make_engines = engines_of(settings, engines)
    except (NotASipUri, PhoneNumberTarget, ValueError) as exc:
        raise _usage(str(exc)) from None
    except SpeechEngineUnavailable as exc:
        raise _usage(str(exc)) from None
    password = settings.sip_password
    account = SipAccount(
        domain=settings.sip_domain or trunk_host,
        username=settings.sip_username,
        password=None if password is None else password.get_secret_value(),
        display_name=practice,
        codecs=settings.sip_codecs,
    )
    if not as_json:
        console.print(f"Calling {to} through {trunk_host}:{trunk_port} ...", highlight=False)
    try:
        result = place_line_check(
            LineTarget(
                trunk_host=trunk_host,
                trunk_port=trunk_port,
                to_uri=to,
                caller_id=caller_id,
                bind_host=settings.sip_bind_host,
                account=account,
                ring_timeout_s=ring_timeout,
                max_call_s=max_seconds,
            ),
            line_check_session(practice, callback),
            engines=make_engines(),
            policy=ScriptedPolicy(),
            single_frequency_ringback=settings.amd_single_frequency_ringback,
        )
    except SipUnavailable as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    report = report_of(result)
    if as_json:
        console.print_json(json.dumps(report))
    else:
        _print(report)
    ok = report["answered"] and report["packets_sent"] > 0 and report["packets_received"] > 0
    raise typer.Exit(0 if ok else 1)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def report_of(result: LineCheckResult) -> dict[str, Any]:
    call, pipeline = result.call, result.pipeline
    turns = [] if pipeline is None else list(pipeline.latencies)
    v2v = [t.voice_to_voice_ms for t in turns]
    return {
        "answered": call.answered_after_s is not None and call.outcome is None,
        "outcome": call.outcome.value if call.outcome else "answered",
        "reason": call.reason,
        "sip_status": call.sip_status,
        "answered_after_s": _ms(call.answered_after_s),
        "duration_s": round(call.ended_after_s, 2),
        "hung_up_by": call.hung_up_by,
        "packets_sent": call.sent_packets,
        "packets_received": call.received_packets,
        "answer_to_first_audio_ms": _ms(call.first_audio_after_answer_ms),
        "transcript": []
        if pipeline is None
        else [
            {"speaker": line.speaker.value, "start_s": line.start_s, "text": line.text}
            for line in pipeline.conversation.transcript
        ],
        "turns": [
            {
                "heard": t.heard,
                "endpointing_ms": _ms(t.endpointing_ms),
                "stt_ms": _ms(t.stt_ms),
                "policy_ms": _ms(t.policy_ms),
                "tts_first_chunk_ms": _ms(t.tts_first_chunk_ms),
                "voice_to_voice_ms": _ms(t.voice_to_voice_ms),
            }
            for t in turns
        ],
        "voice_to_voice_p50_ms": _ms(statistics.median(v2v)) if v2v else None,
        "notes": list(call.notes),
    }


def _print(report: dict[str, Any]) -> None:
    summary = Table(show_header=False, title="Line test")
    summary.add_row("Outcome", f"{report['outcome']} (SIP {report['sip_status']})")
    if report["reason"]:
        summary.add_row("Reason", str(report["reason"]))
    summary.add_row("Answered after", f"{report['answered_after_s']} s")
    summary.add_row("Duration", f"{report['duration_s']} s (hung up by {report['hung_up_by']})")
    summary.add_row(
        "RTP packets", f"{report['packets_sent']} sent, {report['packets_received']} received"
    )
    summary.add_row("Answer to first audio", f"{report['answer_to_first_audio_ms']} ms")
    summary.add_row("Voice to voice p50", f"{report['voice_to_voice_p50_ms']} ms")
    console.print(summary)
    for line in report["transcript"]:
        console.print(
            f"[{line['start_s']:6.1f} s] {line['speaker']:>6}: {line['text']}", highlight=False
        )
    if report["turns"]:
        table = Table(title="Turns (ms)")
        for column in ("heard", "end-pointing", "STT", "policy", "TTS first", "voice to voice"):
            table.add_column(column)
        for t in report["turns"]:
            table.add_row(
                t["heard"],
                *(
                    str(t[k])
                    for k in (
                        "endpointing_ms",
                        "stt_ms",
                        "policy_ms",
                        "tts_first_chunk_ms",
                        "voice_to_voice_ms",
                    )
                ),
            )
        console.print(table)
