"""Twilio's routes into Ringfence: call status, AMD and transfer (`<Dial>` action) callbacks,
the incoming-call webhook of the practice numbers, and the calls' media streams.

`install` sets up the media streams' speech pipeline when the Twilio carrier is configured
(account SID, auth token, public URL): `app.state.media_sessions` builds each call's
`VoicePipeline` (`services/live_media.py`), `app.state.media_hangup` ends a call when its
pipeline says so and `app.state.media_transfer` hands it to staff; `app.state.twilio_inbound`
answers calls to a practice number with the location's agent, whose session waits in
`app.state.twilio_pending` for its stream. Without the speech engines the settings ask for,
nothing is set: streams are refused (1011) and incoming calls rejected, with the reason logged.

Carrier-facing, so kept out of the OpenAPI document: Twilio authenticates with the
`X-Twilio-Signature` of each request (checked against the Auth Token), never with an API key.
An unsigned or forged callback gets 403 and records nothing; a media stream whose handshake is
not signed, or whose call is unknown or over, is closed before it is accepted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Annotated, Protocol, TypeVar

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from ringfence.adapters.telephony.base import CallTransferrer, TelephonyError
from ringfence.adapters.telephony.media import MediaSessionFactory, TransferAware
from ringfence.adapters.telephony.twilio import TwilioWebhooks
from ringfence.adapters.telephony.twilio.media import (
    ProtocolError,
    Stop,
    StreamBridge,
    StreamRejected,
    parse_message,
)
from ringfence.adapters.telephony.twilio.pending import (
    INBOUND_KEY_PREFIX,
    PendingStream,
    PendingStreams,
)
from ringfence.adapters.telephony.twilio.twiml import (
    INCOMING_PATH,
    PublicUrls,
    dial_ended_twiml,
    reject_twiml,
    stream_twiml,
)
from ringfence.bootstrap import Container
from ringfence.bootstrap.carriers import (
    inbound_live_calls,
    live_media_sessions,
    make_twilio_carrier,
)
from ringfence.entrypoints.api.twilio_inbound import (
    answer_call,
    discard_pending_at_shutdown,
    discard_when_due,
    held_session,
    record_inbound_dial_report,
    record_key_of,
    report_failed_hand_over,
)
from ringfence.services.inbound_live import AtCapacity, InboundLiveCalls

log = logging.getLogger("ringfence.twilio")

# Where a media stream's end is handled (`twilio_media`): its own threads, so calls ending
# together neither wait behind the loop's default executor (6 threads on 2 cores, shared with
# DNS lookups) nor hold it up; a thread each for up to 32 calls at once.
_STREAM_ENDS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="twilio-stream-end")

SIGNATURE_HEADER = "X-Twilio-Signature"
# WebSocket close codes (RFC 6455): policy violation, unsupported data, server error.
_POLICY, _BAD_DATA, _SERVER_ERROR = 1008, 1007, 1011

router = APIRouter(include_in_schema=False)
T = TypeVar("T")


def install(app: FastAPI, container: Container) -> None:
    """The speech pipeline behind the media streams, when the Twilio carrier is configured."""
    settings = container.settings
    if not (
        settings.twilio_account_sid and settings.twilio_auth_token and settings.public_base_url
    ):
        return  # no Twilio carrier: no media streams to serve
    sessions = live_media_sessions(container)
    if sessions is None:
        log.error("media streams of Twilio calls will be refused: no speech engines")
        return
    carrier = make_twilio_carrier(container)
    app.state.media_sessions = sessions
    app.state.twilio_inbound = inbound_live_calls(container, sessions)
    app.state.twilio_pending = pending = PendingStreams()
    discard_pending_at_shutdown(app, pending)
    app.state.media_hangup = carrier.hangup
    if isinstance(carrier, CallTransferrer):
        app.state.media_transfer = carrier.transfer


def _webhooks(container: Container) -> TwilioWebhooks:
    settings = container.settings
    token = settings.twilio_auth_token
    return TwilioWebhooks(
        container.session_factory,
        container.clock,
        auth_token=token.get_secret_value() if token else None,
        public_base_url=settings.public_base_url,
    )


def get_webhooks(request: Request) -> TwilioWebhooks:
    container: Container = request.app.state.container
    return _webhooks(container)


def get_media_sessions(websocket: WebSocket) -> MediaSessionFactory | None:
    """The media sessions the streams are bridged to: the speech pipeline, once it is set on
    `app.state.media_sessions`; tests override this dependency."""
    factory: MediaSessionFactory | None = getattr(websocket.app.state, "media_sessions", None)
    return factory


CallHangup = Callable[[str], None]  # ends the call of a carrier call id (the carrier's hangup)


def get_call_hangup(websocket: WebSocket) -> CallHangup | None:
    """How a stream ends its call when the session says so (`Hangup`): the carrier's `hangup`,
    set on `app.state.media_hangup` with the media sessions; tests override this dependency."""
    hangup: CallHangup | None = getattr(websocket.app.state, "media_hangup", None)
    return hangup


class CallTransfer(Protocol):
    """Hands a carrier call id to a number (E.164); the dial's end is reported under
    `report_key` (an inbound call's record), by default under the placed call's key."""

    def __call__(self, call_sid: str, to: str, /, *, report_key: str | None = None) -> None: ...


def get_call_transfer(websocket: WebSocket) -> CallTransfer | None:
    """How a stream hands its call to staff when the session says so (`Transfer`): the
    carrier's `transfer`, set on `app.state.media_transfer`; tests override this dependency."""
    transfer: CallTransfer | None = getattr(websocket.app.state, "media_transfer", None)
    return transfer


def get_inbound_calls(connection: HTTPConnection) -> InboundLiveCalls | None:
    """How an incoming call is answered (the location's agent), once `install` set it on
    `app.state.twilio_inbound`; tests override this dependency."""
    inbound: InboundLiveCalls | None = getattr(connection.app.state, "twilio_inbound", None)
    return inbound


def get_pending_streams(connection: HTTPConnection) -> PendingStreams | None:
    """The answered inbound calls waiting for their media stream (`app.state.twilio_pending`),
    shared by the webhook and the stream route; tests override this dependency."""
    pending: PendingStreams | None = getattr(connection.app.state, "twilio_pending", None)
    return pending


Webhooks = Annotated[TwilioWebhooks, Depends(get_webhooks)]
Pending = Annotated[PendingStreams | None, Depends(get_pending_streams)]


async def _signed_form(request: Request, webhooks: TwilioWebhooks) -> dict[str, str] | None:
    form = await request.form()
    items = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    if len(items) != len(form.multi_items()):
        return None  # files are never part of a Twilio callback
    url = webhooks.public_url(str(request.url))
    if not webhooks.verify(url, items, request.headers.get(SIGNATURE_HEADER)):
        return None
    return dict(items)


async def _callback(
    request: Request, webhooks: TwilioWebhooks, key: str | None, record: Callable[..., T]
) -> T | Response:
    """A callback's common path: 403 unless Twilio signed it (nothing recorded), 400 without a
    sane key or with a form `record` refuses (ValueError), else what `record(key, form)` says
    (run off the event loop: it writes to the database)."""
    form = await _signed_form(request, webhooks)
    if form is None:
        return Response(status_code=status.HTTP_403_FORBIDDEN)
    if not key or len(key) > 64:
        return Response(status_code=status.HTTP_400_BAD_REQUEST)
    try:
        return await run_in_threadpool(record, key, form)
    except ValueError:
        return Response(status_code=status.HTTP_400_BAD_REQUEST)


@router.post("/twilio/status")
async def twilio_status(request: Request, webhooks: Webhooks, key: str | None = None) -> Response:
    known = await _callback(request, webhooks, key, webhooks.record_status)
    if isinstance(known, Response):
        return known
    if not known:
        log.warning("status callback for unknown key %s", key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/twilio/amd")
async def twilio_amd(request: Request, webhooks: Webhooks, key: str | None = None) -> Response:
    done = await _callback(request, webhooks, key, webhooks.record_amd)
    if isinstance(done, Response):
        return done
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/twilio/dial")
async def twilio_dial(request: Request, webhooks: Webhooks, key: str | None = None) -> Response:
    """How the hand-over to staff ended (the `<Dial>`'s action): kept for the call's report (a
    dial no one answered becomes a task), answered with the TwiML the call runs next. An
    inbound call's (its record's key) completes its closed record."""
    record: Callable[[str, dict[str, str]], str | None] = webhooks.record_dial
    if key is not None and key.startswith(INBOUND_KEY_PREFIX):
        record = partial(record_inbound_dial_report, request.app.state.container)
    failed = await _callback(request, webhooks, key, record)
    if isinstance(failed, Response):
        return failed
    return Response(dial_ended_twiml(bridged=failed is None), media_type="application/xml")


@router.post(INCOMING_PATH)
async def twilio_incoming(
    request: Request,
    webhooks: Webhooks,
    pending: Pending,
    inbound: Annotated[InboundLiveCalls | None, Depends(get_inbound_calls)],
) -> Response:
    """A call to a practice number (the number's Voice webhook): answered with the location's
    agent over a bidirectional media stream, or rejected unanswered (docs/carriers.md)."""
    form = await _signed_form(request, webhooks)
    if form is None:
        return Response(status_code=status.HTTP_403_FORBIDDEN)
    dialed, call_sid = form.get("To", ""), form.get("CallSid", "")
    if not dialed or not call_sid or len(call_sid) > 64:
        return Response(status_code=status.HTTP_400_BAD_REQUEST)
    base = request.app.state.container.settings.public_base_url
    if inbound is None or pending is None or not base:
        log.error("incoming call %s rejected: this server has no agent voice", call_sid)
        return _twiml(reject_twiml(busy=False))
    # Once per call: Twilio asking again (a retry, even one that arrives while the first
    # request is being answered) gets the first answer, not a second record.
    answer = partial(
        answer_call, inbound, pending, dialed=dialed, caller=form.get("From"), sid=call_sid
    )
    try:
        answered = await run_in_threadpool(pending.answer_once, call_sid, answer)
    except Exception:
        log.exception("incoming call %s rejected: the agent could not answer it", call_sid)
        return _twiml(reject_twiml(busy=False))
    if not isinstance(answered, str):
        log.warning("incoming call %s rejected: %s", call_sid, answered.explanation)
        return _twiml(reject_twiml(busy=isinstance(answered, AtCapacity)))
    discard_when_due(pending)  # a retry's timer finds nothing more to discard
    return _twiml(stream_twiml(PublicUrls.of(base).media(answered), answered))


def _twiml(body: str) -> Response:
    return Response(body, media_type="application/xml")


@router.websocket("/twilio/media/{key}")
async def twilio_media(
    websocket: WebSocket,
    key: str,
    sessions: Annotated[MediaSessionFactory | None, Depends(get_media_sessions)],
    hangup: Annotated[CallHangup | None, Depends(get_call_hangup)],
    transfer: Annotated[CallTransfer | None, Depends(get_call_transfer)],
    pending: Pending,
) -> None:
    """The stream of an inbound call answered by `twilio_incoming` (its prepared session held
    under the key), else of a call Ringfence placed (its session built by `sessions`)."""
    container: Container = websocket.app.state.container
    webhooks = _webhooks(container)
    url = webhooks.public_url(str(websocket.url))
    if not webhooks.verify_stream(url, websocket.headers.get(SIGNATURE_HEADER)):
        await websocket.close(code=_POLICY)
        return
    inbound = None if pending is None else await run_in_threadpool(pending.take, key)
    if inbound is not None:
        bridge = StreamBridge(key, held_session(inbound), expected_call_sid=inbound.call_sid)
    else:
        call = await run_in_threadpool(webhooks.live_call, key)
        if call is None:
            await websocket.close(code=_POLICY)
            return
        if sessions is None:
            log.error("media stream of %s refused: no media pipeline is set up", key)
            await websocket.close(code=_SERVER_ERROR)
            return
        bridge = StreamBridge(key, sessions, expected_call_sid=call.call_sid)
    await websocket.accept()
    try:
        await _serve(
            websocket, bridge, container, hangup=hangup, transfer=transfer, inbound=inbound
        )
    finally:
        # Off the event loop: ending the call's pipeline waits for its worker and may
        # transcribe the callee's last words (VoicePipeline.on_stop), which would stall the
        # media of every other call this process serves. Handed to a thread at once and
        # shielded, so the call's record is made even if this task is cancelled (a server's
        # shutdown); only the waiting is cancelled then.

        def finish() -> None:
            try:
                bridge.close()
                if inbound is not None and bridge.session is None:  # the stream never started
                    inbound.session.discard()
            except Exception:  # logged here: a cancelled waiter would never see it
                log.exception("media stream of %s: its call could not be closed", key)

        loop = asyncio.get_running_loop()
        await asyncio.shield(loop.run_in_executor(_STREAM_ENDS, finish))


async def _serve(
    websocket: WebSocket,
    bridge: StreamBridge,
    container: Container,
    *,
    hangup: CallHangup | None,
    transfer: CallTransfer | None,
    inbound: PendingStream | None,
) -> None:
    key = bridge.call_key
    record_key = record_key_of(inbound)
    try:
        while not bridge.done:
            try:
                message = parse_message(await websocket.receive_text())
            except ProtocolError as exc:
                log.warning("media stream of %s: %s", key, exc)
                await websocket.close(code=_BAD_DATA)
                return
            if isinstance(message, Stop):  # the call's record is made: off the event loop
                replies = await run_in_threadpool(bridge.handle, message)
            else:
                replies = bridge.handle(message)
            for reply in replies:
                await websocket.send_text(reply)
            sid = bridge.call_sid
            if bridge.transfer_to is not None and record_key is not None:
                to, bridge.transfer_to = bridge.transfer_to, None
                await _hand_over_inbound(container, bridge, transfer, to, record_key)
                break  # the call is staff's now (or over): our side of the stream ends
            elif bridge.transfer_to is not None:
                to, bridge.transfer_to = bridge.transfer_to, None
                failed = await _transfer(transfer, sid, to, key)
                if failed is not None and isinstance(bridge.session, TransferAware):
                    bridge.session.transfer_failed(failed)
                # The record is made; Twilio has left the stream for <Dial>.
                await run_in_threadpool(bridge.close)
                if failed is not None and inbound is None:
                    await _hang_up(hangup, sid, key)
            elif bridge.hangup_requested:
                # The call's record is made (the session stopped) before the carrier ends it.
                # An inbound call is not the carrier's to hang up (it knows the calls it
                # placed): its TwiML has nothing after <Connect>, so the close below ends it.
                await run_in_threadpool(bridge.close)
                if inbound is None:
                    await _hang_up(hangup, sid, key)
        await websocket.close()
    except LookupError as exc:  # the session factory knows no call under the key
        log.error("media stream of %s refused: %s", key, exc)
        await websocket.close(code=_SERVER_ERROR)
    except StreamRejected as exc:
        log.warning("media stream of %s rejected: %s", key, exc)
        await websocket.close(code=_POLICY)
    except WebSocketDisconnect:
        pass  # Twilio hung up the stream without a stop


async def _hand_over_inbound(
    container: Container,
    bridge: StreamBridge,
    transfer: CallTransfer | None,
    to: str,
    record_key: str,
) -> None:
    """An inbound call to staff. Its record is closed first, keeping the conversation for the
    `<Dial>`'s report (which may come at once: a busy line), then Twilio is asked to dial and
    to report how that ended under the record's key (`twilio_dial`). A refused hand-over is
    reported here; the stream's close then ends the call (nothing after <Connect>)."""
    sid = bridge.call_sid
    try:
        await run_in_threadpool(bridge.close)
    except Exception:
        # The caller asked for a person: a record that could not be closed (the database, the
        # recording's disk) must not keep them from staff. Only the kept conversation, and
        # with it a failed dial's "call back" task, is lost; the error is in the log.
        log.exception("call %s: its record could not be closed before the hand-over", sid)
    failed = await _transfer(transfer, sid, to, bridge.call_key, report_key=record_key)
    if failed is not None and sid is not None:
        await run_in_threadpool(report_failed_hand_over, container, record_key, sid, failed)


async def _transfer(
    transfer: CallTransfer | None,
    call_sid: str | None,
    to: str,
    key: str,
    *,
    report_key: str | None = None,
) -> str | None:
    """Hand the call to `to`; None when done, else why not (the call is then hung up)."""
    if transfer is None or call_sid is None:
        log.error("call %s (%s) cannot be transferred: no transfer set", key, call_sid)
        return "this server cannot transfer calls"
    try:
        if report_key is None:
            await run_in_threadpool(transfer, call_sid, to)
        else:
            await run_in_threadpool(partial(transfer, call_sid, to, report_key=report_key))
    except TelephonyError as exc:
        log.warning("transfer of call %s failed: %s", call_sid, exc)
        return str(exc)
    return None


async def _hang_up(hangup: CallHangup | None, call_sid: str | None, key: str) -> None:
    if hangup is None or call_sid is None:
        log.error("call %s (%s) is over but cannot be hung up: no hangup set", key, call_sid)
        return
    try:
        await run_in_threadpool(hangup, call_sid)
    except TelephonyError:
        # Twilio ends the call when the stream closes (<Connect> has nothing after it).
        log.exception("hang-up of call %s failed; closing its stream", call_sid)
