"""The SIP call's state machine (`SipCall`) against a scripted trunk, in real time on loopback.

`FakeTrunk` stands in for the endpoint: it records every message the call sends, and each test
plays the trunk by feeding responses (built from the recorded requests) to `call.on_message`.
RTP is real: the answer's SDP points at a UDP socket the test binds, and the call's own RTP
socket is a real one too. Timings are shortened through the constructor (T1 stays 0.5 s).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import struct
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import pytest

from ringfence.adapters.telephony.g711 import FRAME_BYTES, MULAW_SILENCE
from ringfence.adapters.telephony.media import (
    MediaAction,
    MediaSession,
    OutboundAudio,
    StreamStart,
)
from ringfence.adapters.telephony.sip.call import CallResult, SipCall
from ringfence.adapters.telephony.sip.dialog import SipAccount
from ringfence.adapters.telephony.sip.message import (
    Headers,
    SipMessage,
    SipRequest,
    SipResponse,
    response_to,
    tag_of,
)
from ringfence.adapters.telephony.sip.rtp import RtpPacket, parse_rtp
from ringfence.domain.vocabulary import CallOutcome

T = TypeVar("T")

TRUNK: Final = ("127.0.0.1", 5060)
TARGET: Final = "sip:+12125550100@127.0.0.1"
CALLEE_URI: Final = "sip:callee@127.0.0.1:5099"
CALLEE_CONTACT: Final = f"<{CALLEE_URI}>"
CALLEE_TAG: Final = "callee1"
ACCOUNT: Final = SipAccount(domain="127.0.0.1")
SECURE_ACCOUNT: Final = SipAccount(domain="127.0.0.1", username="alice", password="s3cret")
EPS: Final = 0.05  # scheduling slack on the loop's clock
# 40 ms of a loud square wave: the agent's opening, as PCM16 little-endian.
OPENING: Final = struct.pack("<320h", *([8000, -8000] * 160))


# -- the trunk -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sent:
    message: SipMessage
    addr: tuple[str, int] | None
    at: float  # time.monotonic() when the call sent it


class FakeTrunk:
    """The `Transport` a call sends through: it only records."""

    local_host = "127.0.0.1"
    local_port = 5070

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    def send(self, message: SipMessage, addr: tuple[str, int] | None = None) -> None:
        self.sent.append(Sent(message, addr, time.monotonic()))

    def sent_requests(self, method: str) -> list[Sent]:
        return [
            s for s in self.sent if isinstance(s.message, SipRequest) and s.message.method == method
        ]

    def requests(self, method: str) -> list[SipRequest]:
        return [s.message for s in self.sent_requests(method) if isinstance(s.message, SipRequest)]

    def responses(self) -> list[tuple[SipResponse, tuple[str, int] | None]]:
        return [(s.message, s.addr) for s in self.sent if isinstance(s.message, SipResponse)]

    async def request(self, method: str, number: int = 1, *, timeout: float = 3.0) -> Sent:
        """The `number`-th `method` request the call sends (1-based), once it has."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.sent_requests(method)
            if len(found) >= number:
                return found[number - 1]
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"no {method} #{number} within {timeout} s; sent: {self.summary()}"
                )
            await asyncio.sleep(0.005)

    def summary(self) -> list[str]:
        return [
            f"{s.message.method} {s.message.cseq[0]}"
            if isinstance(s.message, SipRequest)
            else f"{s.message.status} {s.message.cseq[1]}"
            for s in self.sent
        ]


def req(sent: Sent) -> SipRequest:
    assert isinstance(sent.message, SipRequest)
    return sent.message


def reply(
    call: SipCall,
    request: SipRequest,
    status: int,
    reason: str,
    *,
    tag: str | None = CALLEE_TAG,
    extra: Headers = (),
    body: bytes = b"",
) -> SipResponse:
    """The trunk answers `request`."""
    response = response_to(
        request, status, reason, to_tag=tag if status > 100 else None, extra=extra, body=body
    )
    call.on_message(response, TRUNK)
    return response


def sdp_answer(port: int) -> bytes:
    return (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    ).encode("ascii")


def ok(
    call: SipCall,
    invite: SipRequest,
    rtp_port: int,
    *,
    tag: str = CALLEE_TAG,
    contact: str = CALLEE_CONTACT,
) -> SipResponse:
    """The callee picks up: 200 OK with its Contact and an SDP answer."""
    return reply(
        call,
        invite,
        200,
        "OK",
        tag=tag,
        extra=(("Contact", contact), ("Content-Type", "application/sdp")),
        body=sdp_answer(rtp_port),
    )


async def answer_call(trunk: FakeTrunk, call: SipCall, rtp_port: int) -> tuple[SipRequest, ...]:
    """INVITE → 200 → ACK; the (INVITE, 200, ACK) of the dialog."""
    invite = req(await trunk.request("INVITE"))
    reply(call, invite, 180, "Ringing")
    ok(call, invite, rtp_port)
    ack = req(await trunk.request("ACK"))
    return invite, ack


async def finish(task: asyncio.Task[CallResult], timeout: float = 3.0) -> CallResult:
    return await asyncio.wait_for(task, timeout)


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """The scenario on a fresh event loop in its own thread: the main thread may already hold a
    running loop (Playwright's sync API, kept by the browser tests' session fixture)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(scenario())).result()


def make_call(
    trunk: FakeTrunk,
    *,
    account: SipAccount = ACCOUNT,
    prepare: Callable[[], MediaSession] | None = None,
    ring_timeout_s: float = 10.0,
    no_response_s: float = 2.0,
    max_call_s: float = 10.0,
    silence_timeout_s: float = 10.0,
) -> SipCall:
    return SipCall(
        trunk,
        account,
        key="job-1-attempt-1",
        call_id="call-1@127.0.0.1",
        target_uri=TARGET,
        caller_id="+16465550198",
        prepare=prepare,
        ring_timeout_s=ring_timeout_s,
        max_call_s=max_call_s,
        no_response_s=no_response_s,
        silence_timeout_s=silence_timeout_s,
    )


def param(header: str | None, name: str) -> str | None:
    """A quoted parameter of a Digest header."""
    assert header is not None
    match = re.search(rf'{name}="([^"]*)"', header)
    return match.group(1) if match else None


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest_response(*, realm: str, nonce: str, method: str, uri: str) -> str:
    """RFC 2617 without qop, for SECURE_ACCOUNT."""
    ha1 = md5(f"{SECURE_ACCOUNT.username}:{realm}:{SECURE_ACCOUNT.password}")
    return md5(f"{ha1}:{nonce}:{md5(f'{method}:{uri}')}")


def offered_port(invite: SipRequest) -> int:
    match = re.search(rb"m=audio (\d+) ", invite.body)
    assert match is not None
    return int(match.group(1))


# -- the far end's RTP and the agent ---------------------------------------------------------------
class FarEndRtp:
    """The callee's RTP socket: what the call sends lands here."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.packets: list[bytes] = []

    def received(self) -> list[bytes]:
        while True:
            try:
                self.packets.append(self.sock.recv(2048))
            except BlockingIOError:
                return self.packets

    def send_to(self, port: int, count: int) -> None:
        for n in range(count):
            packet = RtpPacket(0, n, n * FRAME_BYTES, 0x1234, bytes([MULAW_SILENCE]) * FRAME_BYTES)
            self.sock.sendto(packet.render(), ("127.0.0.1", port))


@pytest.fixture
def far_end() -> Iterator[FarEndRtp]:
    rtp = FarEndRtp()
    yield rtp
    rtp.sock.close()


class FakeSession:
    """The agent: plays OPENING when the stream starts, records everything else."""

    def __init__(self) -> None:
        self.starts: list[StreamStart] = []
        self.audio: list[bytes] = []
        self.marks: list[str] = []
        self.stopped = 0

    def on_start(self, start: StreamStart) -> list[MediaAction]:
        self.starts.append(start)
        return [OutboundAudio(OPENING, mark="opening")]

    def on_audio(self, pcm16: bytes, at: float) -> list[MediaAction]:
        self.audio.append(pcm16)
        return []

    def on_mark(self, name: str) -> list[MediaAction]:
        self.marks.append(name)
        return []

    def on_stop(self) -> None:
        self.stopped += 1


class DiscardableSession(FakeSession):
    def __init__(self) -> None:
        super().__init__()
        self.discarded = 0

    def discard(self) -> None:
        self.discarded += 1


# -- the INVITE transaction ------------------------------------------------------------------------
def test_ringing_longer_than_timer_b_is_not_a_failure_and_ends_in_a_cancel() -> None:
    trunk = FakeTrunk()

    async def scenario() -> tuple[CallResult, float, Sent, SipRequest]:
        call = make_call(trunk, no_response_s=0.5, ring_timeout_s=1.5)
        task = asyncio.create_task(call.run())
        invite = req(await trunk.request("INVITE"))
        reply(call, invite, 180, "Ringing")
        rang = time.monotonic()
        await asyncio.sleep(1.5 - 0.2)  # well past Timer B (0.5 s)
        assert not trunk.sent_requests("CANCEL")
        assert not task.done()
        cancel = await trunk.request("CANCEL", timeout=1.0)
        reply(call, req(cancel), 200, "OK")
        reply(call, invite, 487, "Request Terminated")
        return await finish(task), rang, cancel, invite

    result, rang, cancel, invite = run(scenario)

    assert cancel.at - rang >= 1.5 - EPS
    assert cancel.at - rang < 1.5 + 0.5
    canceling = req(cancel)
    assert canceling.uri == invite.uri
    assert canceling.top_branch == invite.top_branch
    assert canceling.cseq == (invite.cseq[0], "CANCEL")
    for header in ("From", "To", "Call-ID"):
        assert canceling.header(header) == invite.header(header)
    assert len(trunk.requests("INVITE")) == 1  # the 180 stopped the retransmissions
    assert result.outcome is CallOutcome.NO_ANSWER
    assert result.reason == "no answer within 1.5 s (canceled)"
    assert result.sip_status == 487
    assert result.answered_after_s is None
    [ack] = trunk.requests("ACK")  # the 487's ACK: the INVITE's transaction
    assert ack.cseq == (invite.cseq[0], "ACK")
    assert ack.top_branch == invite.top_branch
    assert tag_of(ack.header("To")) == CALLEE_TAG
    assert not trunk.requests("BYE")


def test_the_ring_timeout_runs_from_the_180_not_from_the_100() -> None:
    trunk = FakeTrunk()

    async def scenario() -> tuple[CallResult, Sent, float, Sent]:
        call = make_call(trunk, no_response_s=0.5, ring_timeout_s=1.0)
        task = asyncio.create_task(call.run())
        invited = await trunk.request("INVITE")
        invite = req(invited)
        reply(call, invite, 100, "Trying")
        await asyncio.sleep(1.0)
        assert not trunk.sent_requests("CANCEL")
        reply(call, invite, 180, "Ringing")
        rang = time.monotonic()
        cancel = await trunk.request("CANCEL", timeout=2.0)
        reply(call, req(cancel), 200, "OK")
        reply(call, invite, 487, "Request Terminated")
        return await finish(task), invited, rang, cancel

    result, invited, rang, cancel = run(scenario)

    assert cancel.at - invited.at >= 2.0 - EPS
    assert cancel.at - rang >= 1.0 - EPS
    assert len(trunk.requests("INVITE")) == 1  # the 100 stopped the retransmissions
    assert result.outcome is CallOutcome.NO_ANSWER
    assert result.reason == "no answer within 1 s (canceled)"


def test_an_invite_without_any_answer_is_retransmitted_then_given_up() -> None:
    trunk = FakeTrunk()

    async def scenario() -> CallResult:
        call = make_call(trunk, no_response_s=1.2)
        return await finish(asyncio.create_task(call.run()))

    result = run(scenario)

    invites = trunk.sent_requests("INVITE")
    assert len(invites) == 2  # at 0 and T1 (the next would be at 3·T1, after Timer B)
    assert req(invites[1]) == req(invites[0])
    assert invites[1].at - invites[0].at >= 0.5 - EPS
    assert result.outcome is CallOutcome.FAILED
    assert result.reason == "carrier failure (no response from the SIP trunk)"
    assert not trunk.requests("CANCEL")  # nothing rang: nothing to cancel


def test_the_cancel_is_retransmitted_until_its_200_arrives() -> None:
    trunk = FakeTrunk()

    async def scenario() -> tuple[CallResult, list[Sent]]:
        call = make_call(trunk, ring_timeout_s=0.2)
        task = asyncio.create_task(call.run())
        invite = req(await trunk.request("INVITE"))
        reply(call, invite, 180, "Ringing")
        first = await trunk.request("CANCEL")
        third = await trunk.request("CANCEL", 3, timeout=2.0)
        assert third.at - first.at <= 1.5 + 0.25  # at +0.5 and +1.5 s
        reply(call, req(third), 200, "OK")
        # Unanswered, the next would go at first + 0.5 + 1 + 2 s.
        await asyncio.sleep(first.at + 3.8 - time.monotonic())
        cancels = trunk.sent_requests("CANCEL")
        reply(call, invite, 487, "Request Terminated")
        return await finish(task), cancels

    result, cancels = run(scenario)

    assert len(cancels) == 3
    assert len({req(c) for c in cancels}) == 1  # the same request each time
    assert cancels[1].at - cancels[0].at >= 0.5 - EPS
    assert cancels[2].at - cancels[1].at >= 1.0 - EPS
    assert result.outcome is CallOutcome.NO_ANSWER
    assert result.reason == "no answer within 0.2 s (canceled)"


def test_hanging_up_before_run_never_dials() -> None:
    trunk = FakeTrunk()

    async def scenario() -> CallResult:
        call = make_call(trunk)
        call.hang_up()
        return await finish(asyncio.create_task(call.run()))

    result = run(scenario)

    assert result.outcome is CallOutcome.FAILED
    assert result.reason is not None
    assert result.reason.startswith("not dialed")
    assert trunk.sent == []


def test_hanging_up_while_ringing_cancels_the_invite() -> None:
    trunk = FakeTrunk()

    async def scenario() -> CallResult:
        call = make_call(trunk)
        task = asyncio.create_task(call.run())
        invite = req(await trunk.request("INVITE"))
        reply(call, invite, 183, "Session Progress")
        await asyncio.sleep(0.05)
        call.hang_up()
        cancel = req(await trunk.request("CANCEL", timeout=0.5))
        reply(call, cancel, 200, "OK")
        reply(call, invite, 487, "Request Terminated")
        return await finish(task)

    result = run(scenario)

    assert result.outcome is CallOutcome.NO_ANSWER
    assert result.reason == "hung up by Ringfence before the answer"
    assert len(trunk.requests("ACK")) == 1


def test_a_digest_challenge_is_answered_and_its_credentials_go_on_the_dialogs_requests(
    far_end: FarEndRtp,
) -> None:
    trunk = FakeTrunk()

    async def scenario() -> CallResult:
        call = make_call(trunk, account=SECURE_ACCOUNT)
        task = asyncio.create_task(call.run())
        first = req(await trunk.request("INVITE"))
        reply(
            call,
            first,
            401,
            "Unauthorized",
            tag="proxy",
            extra=(("WWW-Authenticate", 'Digest realm="t", nonce="n"'),),
        )
        challenged_ack = req(await trunk.request("ACK"))
        assert challenged_ack.cseq == (1, "ACK")
        assert challenged_ack.top_branch == first.top_branch
        second = req(await trunk.request("INVITE", 2))
        assert second.cseq == (2, "INVITE")
        assert second.top_branch != first.top_branch  # a new transaction
        assert second.header("From") == first.header("From")
        assert second.call_id == first.call_id
        authorization = second.header("Authorization")
        assert param(authorization, "username") == "alice"
        assert param(authorization, "realm") == "t"
        assert param(authorization, "nonce") == "n"
        assert param(authorization, "uri") == TARGET
        assert param(authorization, "response") == digest_response(
            realm="t", nonce="n", method="INVITE", uri=TARGET
        )

        ok(call, second, far_end.port)
        ack = req(await trunk.request("ACK", 2))
        assert ack.cseq == (2, "ACK")
        assert ack.uri == CALLEE_URI
        assert tag_of(ack.header("To")) == CALLEE_TAG
        assert ack.header("Authorization") == authorization

        call.hang_up()
        bye = req(await trunk.request("BYE"))
        assert bye.cseq == (3, "BYE")
        assert bye.uri == CALLEE_URI
        assert tag_of(bye.header("To")) == CALLEE_TAG
        assert bye.header("Authorization") == authorization
        reply(
            call,
            bye,
            407,
            "Proxy Authentication Required",
            extra=(("Proxy-Authenticate", 'Digest realm="p", nonce="m"'),),
        )
        again = req(await trunk.request("BYE", 2))
        assert again.cseq == (4, "BYE")
        proxy_authorization = again.header("Proxy-Authorization")
        assert param(proxy_authorization, "realm") == "p"
        assert param(proxy_authorization, "uri") == CALLEE_URI
        assert param(proxy_authorization, "response") == digest_response(
            realm="p", nonce="m", method="BYE", uri=CALLEE_URI
        )
        reply(call, again, 200, "OK")
        return await finish(task)

    result = run(scenario)

    assert result.hung_up_by == "ringfence"
    assert result.outcome is None  # answered: the media decides
    assert result.sip_status == 200
    assert result.answered_after_s is not None
    assert result.notes == []
    assert len(trunk.requests("BYE")) == 2
    assert len(trunk.requests("INVITE")) == 2


# -- answers ---------------------------------------------------------------------------------------
def test_a_retransmitted_2xx_is_acked_again_and_a_second_fork_is_acked_and_hung_up(
    far_end: FarEndRtp,
) -> None:
    trunk = FakeTrunk()

    async def scenario() -> CallResult:
        call = make_call(trunk)
        task = asyncio.create_task(call.run())
        invite, ack = await answer_call(trunk, call, far_end.port)
        assert ack.cseq == (1, "ACK")

        ok(call, invite, far_end.port)  # our ACK was lost: the 200 comes again
        assert trunk.requests("ACK") == [ack, ack]
        assert not trunk.requests("BYE")

        ok(call, invite, far_end.port, tag="fork2", contact="<sip:fork@127.0.0.1:5098>")
        fork_ack = req(await trunk.request("ACK", 3))
        fork_bye = req(await trunk.request("BYE"))
        assert fork_ack.cseq == (1, "ACK")
        assert fork_ack.uri == "sip:fork@127.0.0.1:5098"
        assert tag_of(fork_ack.header("To")) == "fork2"
        assert fork_bye.uri == "sip:fork@127.0.0.1:5098"
        assert tag_of(fork_bye.header("To")) == "fork2"
        assert fork_bye.header("From") == invite.header("From")
        assert fork_bye.cseq[1] == "BYE"
        reply(call, fork_bye, 200, "OK", tag=None)
        ok(call, invite, far_end.port, tag="fork2", contact="<sip:fork@127.0.0.1:5098>")
        assert trunk.requests("ACK")[-1] == fork_ack  # the fork's 2xx again: its ACK again
        assert len(trunk.requests("BYE")) == 1

        await asyncio.sleep(0.1)
        assert not task.done()  # the first dialog is still up
        call.hang_up()
        bye = req(await trunk.request("BYE", 2))
        assert tag_of(bye.header("To")) == CALLEE_TAG
        assert bye.uri == CALLEE_URI
        assert bye.cseq[0] > fork_bye.cseq[0]
        reply(call, bye, 200, "OK", tag=None)
        return await finish(task)

    result = run(scenario)

    assert result.hung_up_by == "ringfence"
    assert result.notes == ["hung up a late or forked answer (tag fork2)"]
    assert result.sent_packets > 0
    assert all(parse_rtp(p).payload_type == 0 for p in far_end.received())
    assert far_end.received()


def test_a_2xx_after_the_call_was_given_up_is_acked_and_hung_up(far_end: FarEndRtp) -> None:
    trunk = FakeTrunk()

    async def scenario() -> tuple[CallResult, SipCall, SipRequest]:
        call = make_call(trunk, ring_timeout_s=0.2)
        task = asyncio.create_task(call.run())
        invite = req(await trunk.request("INVITE"))
        reply(call, invite, 180, "Ringing")
        cancel = req(await trunk.request("CANCEL"))
        reply(call, cancel, 200, "OK")
        reply(call, invite, 487, "Request Terminated")
        return await finish(task), call, invite

    result, call, invite = run(scenario)
    assert result.outcome is CallOutcome.NO_ANSWER
    assert not trunk.requests("BYE")

    # The endpoint keeps the call a while after run() returns, for just this.
    ok(call, invite, far_end.port, tag="late")

    late_ack, late_bye = trunk.requests("ACK")[-1], trunk.requests("BYE")[-1]
    assert len(trunk.requests("ACK")) == 2  # the 487's, then the late 2xx's
    assert late_ack.cseq == (1, "ACK")
    assert tag_of(late_ack.header("To")) == "late"
    assert late_ack.uri == CALLEE_URI
    assert tag_of(late_bye.header("To")) == "late"
    assert late_bye.uri == CALLEE_URI
    assert late_bye.cseq[1] == "BYE"
    assert result.notes == ["hung up a late or forked answer (tag late)"]


# -- the end of an answered call -------------------------------------------------------------------
def test_no_rtp_from_the_far_end_hangs_up_as_no_media(far_end: FarEndRtp) -> None:
    trunk = FakeTrunk()

    async def scenario() -> tuple[CallResult, Sent, Sent]:
        call = make_call(trunk, silence_timeout_s=0.6)
        task = asyncio.create_task(call.run())
        await answer_call(trunk, call, far_end.port)
        acked = (await trunk.request("ACK")).at
        bye = await trunk.request("BYE", timeout=2.0)
        assert bye.at - acked >= 0.6 - EPS
        reply(call, req(bye), 200, "OK", tag=None)
        return await finish(task), await trunk.request("ACK"), bye

    result, ack, bye = run(scenario)

    assert result.hung_up_by == "no_media"
    assert result.outcome is None
    assert result.sent_packets > 0
    assert result.received_packets == 0
    assert bye.at - ack.at < 0.6 + 0.5
    assert tag_of(req(bye).header("To")) == CALLEE_TAG
    packets = far_end.received()
    assert len(packets) == result.sent_packets
    assert all(parse_rtp(p).payload == bytes([MULAW_SILENCE]) * FRAME_BYTES for p in packets)


def test_the_far_ends_bye_is_answered_and_ends_the_call(far_end: FarEndRtp) -> None:
    trunk = FakeTrunk()

    async def scenario() -> tuple[CallResult, SipRequest]:
        call = make_call(trunk)
        task = asyncio.create_task(call.run())
        invite, _ack = await answer_call(trunk, call, far_end.port)
        await asyncio.sleep(0.1)
        bye = SipRequest(
            method="BYE",
            uri=f"sip:ringfence@{trunk.local_host}:{trunk.local_port}",
            headers=(
                ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfarendbye"),
                ("Max-Forwards", "70"),
                ("From", f"<{TARGET}>;tag={CALLEE_TAG}"),
                ("To", invite.header("From") or ""),
                ("Call-ID", invite.call_id),
                ("CSeq", "1 BYE"),
            ),
        )
        call.on_message(bye, TRUNK)
        return await finish(task), bye

    result, bye = run(scenario)

    [(response, addr)] = trunk.responses()
    assert (response.status, response.cseq, addr) == (200, (1, "BYE"), TRUNK)
    assert response.header("Via") == bye.header("Via")
    assert response.header("To") == bye.header("To")
    assert result.hung_up_by == "callee"
    assert result.outcome is None
    assert not trunk.requests("BYE")


def test_cancelling_an_answered_call_sends_one_bye_before_it_goes(far_end: FarEndRtp) -> None:
    trunk = FakeTrunk()
    session = FakeSession()

    async def scenario() -> list[SipRequest]:
        call = make_call(trunk, prepare=lambda: session)
        task = asyncio.create_task(call.run())
        await answer_call(trunk, call, far_end.port)
        await asyncio.sleep(0.1)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            byes = trunk.requests("BYE")  # as the cancellation came out
        else:
            raise AssertionError("the cancellation was swallowed")
        await asyncio.sleep(0.6)  # past T1: no retransmission either
        assert trunk.requests("BYE") == byes
        return byes

    [bye] = run(scenario)

    assert tag_of(bye.header("To")) == CALLEE_TAG
    assert bye.uri == CALLEE_URI
    assert session.stopped == 1


# -- the prepared media session --------------------------------------------------------------------
def test_a_prepared_session_is_discarded_when_no_one_answers() -> None:
    trunk = FakeTrunk()
    session = DiscardableSession()
    prepared_before_dialing: list[bool] = []

    def prepare() -> MediaSession:
        prepared_before_dialing.append(trunk.sent == [])
        return session

    async def scenario() -> CallResult:
        call = make_call(trunk, prepare=prepare)
        task = asyncio.create_task(call.run())
        invite = req(await trunk.request("INVITE"))
        reply(call, invite, 486, "Busy Here")
        return await finish(task)

    result = run(scenario)

    assert prepared_before_dialing == [True]
    assert result.outcome is CallOutcome.BUSY
    assert result.reason == "busy (SIP 486 Busy Here)"
    assert session.discarded == 1
    assert session.starts == []
    assert session.stopped == 0


def test_a_prepared_session_plays_and_is_stopped_when_the_answered_call_ends(
    far_end: FarEndRtp,
) -> None:
    trunk = FakeTrunk()
    session = DiscardableSession()

    async def scenario() -> tuple[CallResult, SipCall]:
        call = make_call(trunk, prepare=lambda: session)
        task = asyncio.create_task(call.run())
        invite, _ack = await answer_call(trunk, call, far_end.port)
        far_end.send_to(offered_port(invite), 5)
        deadline = time.monotonic() + 2.0
        while (len(session.audio) < 5 or not session.marks) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        call.hang_up()
        bye = req(await trunk.request("BYE"))
        reply(call, bye, 200, "OK", tag=None)
        return await finish(task), call

    result, call = run(scenario)

    assert session.stopped == 1
    assert session.discarded == 0
    [start] = session.starts
    assert (start.call_key, start.call_sid) == (call.key, call.call_id)
    assert start.stream_sid == f"rtp-127.0.0.1:{far_end.port}"
    assert start.parameters == {"codec": "PCMU"}
    assert session.audio == [b"\x00\x00" * FRAME_BYTES] * 5  # μ-law silence, decoded
    assert session.marks == ["opening"]
    assert result.received_packets == 5
    assert result.hung_up_by == "ringfence"
    assert result.first_audio_after_answer_ms is not None
    silence = bytes([MULAW_SILENCE]) * FRAME_BYTES
    spoken = [p for p in far_end.received() if parse_rtp(p).payload != silence]
    assert len(spoken) == 2  # OPENING's two frames went out
    assert parse_rtp(far_end.packets[0]).marker


def test_a_hang_up_before_any_provisional_answer_still_ends_an_answered_call(
    far_end: FarEndRtp,
) -> None:
    trunk = FakeTrunk()
    session = DiscardableSession()

    async def scenario() -> CallResult:
        call = make_call(trunk, prepare=lambda: session)
        task = asyncio.create_task(call.run())
        invite = req(await trunk.request("INVITE"))
        call.hang_up()  # nothing to CANCEL yet: no 1xx has come
        await asyncio.sleep(0.1)
        ok(call, invite, far_end.port)
        reply(call, req(await trunk.request("BYE")), 200, "OK", tag=None)
        return await finish(task)

    result = run(scenario)

    assert result.outcome is CallOutcome.NO_ANSWER
    assert result.reason == "hung up by Ringfence as the call was answered"
    assert session.discarded == 1  # Ringfence hung up: the agent never started, no record
    assert session.starts == []


def test_a_bye_outside_the_dialog_is_refused_and_ends_nothing() -> None:
    trunk = FakeTrunk()

    async def scenario() -> tuple[CallResult, list[SipResponse]]:
        call = make_call(trunk, ring_timeout_s=0.5)
        task = asyncio.create_task(call.run())
        invite = req(await trunk.request("INVITE"))
        reply(call, invite, 180, "Ringing")
        stray = SipRequest(
            method="BYE",
            uri="sip:ringfence@127.0.0.1:5062",
            headers=(
                ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKstray"),
                ("From", f"<{TARGET}>;tag=someone-else"),
                ("To", invite.header("From") or ""),
                ("Call-ID", invite.call_id),
                ("CSeq", "7 BYE"),
            ),
        )
        call.on_message(stray, TRUNK)
        cancel = req(await trunk.request("CANCEL"))  # the ring timeout, not the stray BYE
        reply(call, cancel, 200, "OK")
        reply(call, invite, 487, "Request Terminated")
        result = await finish(task)
        return result, [s.message for s in trunk.sent if isinstance(s.message, SipResponse)]

    result, responses = run(scenario)

    assert [r.status for r in responses] == [481]
    assert result.outcome is CallOutcome.NO_ANSWER
    assert result.reason == "no answer within 0.5 s (canceled)"
