"""The SIP carrier's answering side at the protocol level (adapters/telephony/sip/incoming.py,
answering.py): a plain UDP socket on loopback plays the trunk, so every message Ringfence
sends back is read as it is on the wire. The agent here is a stand-in session (a tone), or a
decline: the speech pipeline and the records are test_sip_inbound.py's.

Covered: an INVITE from anywhere but the trunk is refused 403 and never reaches the shell;
100 Trying and 180 Ringing while the shell decides; a decline's final response is
retransmitted until its ACK; an answer's 200 carries our tag, our Contact and an SDP answer in
the one G.711 law we took from the offer, is retransmitted until the ACK, and RTP flows from
it; a retransmitted INVITE gets the last response again; a CANCEL before the answer gets 200
and the INVITE 487 (the prepared session is discarded); the caller's BYE ends the call; a
worker's shutdown hangs up an answered call with a BYE.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from ringfence.adapters.telephony.media import MediaAction, OutboundAudio, StreamStart
from ringfence.adapters.telephony.sip.carrier import SipCarrier, SipOptions
from ringfence.adapters.telephony.sip.incoming import Decline, IncomingInvite, user_of
from ringfence.adapters.telephony.sip.message import SipRequest, SipResponse
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from tests.sip_trunk import CALLER, LINE, Trunk
from tests.telephony_audio import tone


@dataclass
class Agent:
    """A stand-in session: a tone when the call is answered."""

    discarded: int = 0
    stopped: int = 0
    frames: int = 0

    def on_start(self, start: StreamStart) -> list[MediaAction]:
        return [OutboundAudio(tone(0.4), mark="hello")]

    def on_audio(self, pcm16: bytes, at: float) -> list[MediaAction]:
        self.frames += 1
        return []

    def on_mark(self, name: str) -> list[MediaAction]:
        return []

    def on_stop(self) -> None:
        self.stopped += 1

    def discard(self) -> None:
        self.discarded += 1


@dataclass
class Shell:
    """The answerer: a decline, or the agent (after `delay_s`, as preparing it takes)."""

    decline: Decline | None = None
    delay_s: float = 0.0
    asked: list[IncomingInvite] = field(default_factory=list)
    agent: Agent = field(default_factory=Agent)

    def __call__(self, invite: IncomingInvite) -> Agent | Decline:
        self.asked.append(invite)
        time.sleep(self.delay_s)
        return self.decline if self.decline is not None else self.agent


@pytest.fixture
def trunk() -> Iterator[Trunk]:
    peer = Trunk()
    yield peer
    peer.close()


def _carrier(container: Container, clock: VirtualClock, trunk: Trunk, shell: Shell) -> SipCarrier:
    return SipCarrier(
        container.session_factory,
        clock,
        SipOptions(trunk_host=trunk.host, trunk_port=trunk.port, bind_host="127.0.0.1"),
        answer=shell,
    )


def _ack(trunk: Trunk, invite: SipRequest, to: tuple[str, int], response: SipResponse) -> None:
    trunk.request("ACK", invite, to, to_header=response.header("To") or "", cseq="1 ACK")


def test_the_numbers_and_the_caller_are_read_from_the_invite() -> None:
    assert user_of("<sip:+12125550199@trunk.example.com;user=phone>") == "+12125550199"
    assert user_of('"Maria" <sip:2125550147@10.0.0.1>;tag=a') == "2125550147"
    assert user_of("tel:+12125550147") == "+12125550147"
    assert user_of("<sip:trunk.example.com>") is None
    assert user_of(None) is None


def test_a_declined_call_gets_trying_ringing_then_its_final_response_until_acked(
    container: Container, clock: VirtualClock, trunk: Trunk
) -> None:
    shell = Shell(decline=Decline(404, "Not Found"))
    carrier = _carrier(container, clock, trunk, shell)
    try:
        to = carrier.local_address
        invite = trunk.invite(to, call_id="declined-1")
        assert trunk.response(100).status == 100
        ringing = trunk.response(180)
        not_found = trunk.response(404)
        assert ringing.header("To") == not_found.header("To")  # one tag for the whole call
        again = trunk.response(404)  # retransmitted: no ACK yet
        assert again.header("To") == not_found.header("To")
        _ack(trunk, invite, to, not_found)
        [asked] = shell.asked
        assert (asked.dialed, asked.caller, asked.call_id) == (LINE, CALLER, "declined-1")
    finally:
        carrier.close()


def test_an_invite_from_anywhere_but_the_trunk_is_refused_unheard(
    container: Container, clock: VirtualClock, trunk: Trunk
) -> None:
    shell = Shell()
    carrier = _carrier(container, clock, trunk, shell)
    stranger = Trunk("127.0.0.2")  # loopback, but not the trunk's address
    try:
        stranger.invite(carrier.local_address, call_id="stranger-1")
        refused = stranger.receive()
        assert isinstance(refused, SipResponse)
        assert refused.status == 403
        assert shell.asked == []
    finally:
        stranger.close()
        carrier.close()


def test_an_answered_call_sends_its_sdp_answer_until_acked_then_rtp_and_ends_on_bye(
    container: Container, clock: VirtualClock, trunk: Trunk
) -> None:
    shell = Shell()
    carrier = _carrier(container, clock, trunk, shell)
    try:
        to = carrier.local_address
        invite = trunk.invite(to, call_id="answered-1", codecs="8 0")  # PCMA preferred
        trunk.response(100)
        trunk.send(invite, to)  # a retransmission while it rings: answered again, no new call
        ok = trunk.response(200)
        body = ok.body.decode()
        assert "m=audio" in body
        assert "RTP/AVP 8\r\n" in body  # the one law taken from the offer
        assert ok.header("Contact")
        assert ";tag=" in (ok.header("To") or "")
        assert trunk.response(200).header("To") == ok.header("To")  # again until the ACK
        _ack(trunk, invite, to, ok)
        packet, _ = trunk.rtp.recvfrom(2048)  # the agent speaks from the answer
        assert packet[1] & 0x7F == 8
        trunk.request("BYE", invite, to, to_header=ok.header("To") or "", cseq="2 BYE")
        assert trunk.response(200, method="BYE").status == 200
        deadline = time.monotonic() + 5
        while shell.agent.stopped == 0:
            assert time.monotonic() < deadline, "the session was never stopped"
            time.sleep(0.05)
        assert len(shell.asked) == 1
        assert shell.agent.discarded == 0
    finally:
        carrier.close()


def test_a_cancel_before_the_answer_is_487_and_discards_the_prepared_agent(
    container: Container, clock: VirtualClock, trunk: Trunk
) -> None:
    shell = Shell(delay_s=1.0)  # the greeting takes a moment to prepare
    carrier = _carrier(container, clock, trunk, shell)
    try:
        to = carrier.local_address
        invite = trunk.invite(to, call_id="canceled-1")
        ringing = trunk.response(180)
        trunk.request("CANCEL", invite, to, to_header=invite.header("To") or "", cseq="1 CANCEL")
        assert trunk.response(200, method="CANCEL").status == 200
        terminated = trunk.response(487)
        assert terminated.header("To") == ringing.header("To")
        _ack(trunk, invite, to, terminated)
        deadline = time.monotonic() + 5
        while shell.agent.discarded == 0:
            assert time.monotonic() < deadline, "the prepared session was never discarded"
            time.sleep(0.05)
        assert shell.agent.stopped == 0
    finally:
        carrier.close()


def test_a_workers_shutdown_hangs_up_an_answered_call_with_a_bye(
    container: Container, clock: VirtualClock, trunk: Trunk
) -> None:
    shell = Shell()
    carrier = _carrier(container, clock, trunk, shell)
    to = carrier.local_address
    invite = trunk.invite(to, call_id="shutdown-1")
    ok = trunk.response(200)
    _ack(trunk, invite, to, ok)
    closing = threading.Thread(target=carrier.close, kwargs={"timeout_s": 5.0})
    closing.start()
    bye = trunk.next_request("BYE")
    assert bye.header("From") == ok.header("To")  # from our side of the dialog
    assert bye.uri == f"sip:{CALLER}@{trunk.host}:{trunk.port}"  # to the caller's Contact
    trunk.send(
        SipResponse(
            status=200,
            reason="OK",
            headers=tuple(
                (k, v) for k, v in bye.headers if k in ("Via", "From", "To", "Call-ID", "CSeq")
            ),
        ),
        to,
    )
    closing.join(10)
    assert not closing.is_alive()
    assert shell.agent.stopped == 1


def test_a_reinvite_of_a_dialog_we_do_not_have_is_481_and_reaches_no_one(
    container: Container, clock: VirtualClock, trunk: Trunk
) -> None:
    shell = Shell()
    carrier = _carrier(container, clock, trunk, shell)
    try:
        to = carrier.local_address
        invite = trunk.invite(to, call_id="gone-1")
        ok = trunk.response(200)
        _ack(trunk, invite, to, ok)
        trunk.request("BYE", invite, to, to_header=ok.header("To") or "", cseq="2 BYE")
        trunk.response(200, method="BYE")
        # A session refresh for another process's (or a long-gone) call: not a new call.
        stale = SipRequest(
            method="INVITE",
            uri=invite.uri,
            headers=(
                *(
                    (k, f"{v};tag=elsewhere" if k == "To" else v)
                    for k, v in invite.headers
                    if k != "Call-ID"
                ),
                ("Call-ID", "never-seen-1"),
            ),
            body=invite.body,
        )
        trunk.send(stale, to)
        assert trunk.response(481).status == 481
        assert len(shell.asked) == 1
    finally:
        carrier.close()


def test_a_new_invite_for_a_declined_call_is_481_not_answered(
    container: Container, clock: VirtualClock, trunk: Trunk
) -> None:
    shell = Shell(decline=Decline(486, "Busy Here"))
    carrier = _carrier(container, clock, trunk, shell)
    try:
        to = carrier.local_address
        invite = trunk.invite(to, call_id="busy-1")
        busy = trunk.response(486)
        _ack(trunk, invite, to, busy)
        again = SipRequest(
            method="INVITE",
            uri=invite.uri,
            headers=tuple((k, "2 INVITE" if k == "CSeq" else v) for k, v in invite.headers),
            body=invite.body,
        )
        trunk.send(again, to)  # same Call-ID and From tag, no dialog: not a re-INVITE
        assert trunk.response(481).status == 481
        assert len(shell.asked) == 1
    finally:
        carrier.close()


def test_the_record_route_is_copied_into_the_responses_that_make_the_dialog(
    container: Container, clock: VirtualClock, trunk: Trunk
) -> None:
    shell = Shell()
    carrier = _carrier(container, clock, trunk, shell)
    try:
        to = carrier.local_address
        invite = trunk.invite(
            to, call_id="routed-1", extra=(("Record-Route", "<sip:proxy.example;lr>"),)
        )
        assert trunk.response(180).headers_named("Record-Route") == ["<sip:proxy.example;lr>"]
        ok = trunk.response(200)
        assert ok.headers_named("Record-Route") == ["<sip:proxy.example;lr>"]
        _ack(trunk, invite, to, ok)
    finally:
        carrier.close(timeout_s=5.0)


def test_a_call_ringing_at_shutdown_gets_a_final_answer_not_silence(
    container: Container, clock: VirtualClock, trunk: Trunk
) -> None:
    shell = Shell(delay_s=1.5)  # still preparing the greeting when the worker stops
    carrier = _carrier(container, clock, trunk, shell)
    to = carrier.local_address
    invite = trunk.invite(to, call_id="shutdown-ringing-1")
    trunk.response(180)
    closing = threading.Thread(target=carrier.close, kwargs={"timeout_s": 5.0})
    closing.start()
    unavailable = trunk.response(480)
    _ack(trunk, invite, to, unavailable)
    closing.join(10)
    assert not closing.is_alive()
    assert shell.agent.discarded == 1


def test_the_487_of_a_cancel_is_sent_again_until_acknowledged(
    container: Container, clock: VirtualClock, trunk: Trunk
) -> None:
    shell = Shell(delay_s=0.5)
    carrier = _carrier(container, clock, trunk, shell)
    try:
        to = carrier.local_address
        invite = trunk.invite(to, call_id="cancel-again-1")
        trunk.response(180)
        trunk.request("CANCEL", invite, to, to_header=invite.header("To") or "", cseq="1 CANCEL")
        first = trunk.response(487)
        again = trunk.response(487)  # no ACK yet: retransmitted
        assert again.header("To") == first.header("To")
        _ack(trunk, invite, to, first)
    finally:
        carrier.close()
