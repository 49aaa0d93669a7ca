"""A warm transfer over SIP: the agent's `Transfer` becomes a REFER to the staff line once its
last words are out, the NOTIFYs say how the new call went, and the call ends with its BYE."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Final

import pytest

from ringfence.adapters.telephony.media import (
    MediaAction,
    OutboundAudio,
    StreamStart,
    Transfer,
)
from ringfence.adapters.telephony.sip.call import CallResult, SipCall
from ringfence.adapters.telephony.sip.message import SipRequest, SipResponse, sipfrag_status

from .test_sip_call_rules import (
    CALLEE_TAG,
    OPENING,
    TRUNK,
    FakeSession,
    FakeTrunk,
    FarEndRtp,
    answer_call,
    finish,
    make_call,
    offered_port,
    reply,
    req,
    run,
)

STAFF: Final = "+13055550199"


@pytest.fixture
def far_end() -> Iterator[FarEndRtp]:
    rtp = FarEndRtp()
    yield rtp
    rtp.sock.close()


class TransferringSession(FakeSession):
    """The agent says its last words, then hands the callee to staff."""

    def __init__(self) -> None:
        super().__init__()
        self.failed: list[str] = []

    def on_start(self, start: StreamStart) -> list[MediaAction]:
        self.starts.append(start)
        return [OutboundAudio(OPENING, mark="opening"), Transfer(STAFF)]

    def transfer_failed(self, why: str) -> None:
        self.failed.append(why)


def notify(call: SipCall, refer: SipRequest, status_line: str, cseq: int = 1) -> None:
    """The callee's side reports the transferred call (RFC 3515 §2.4.5)."""
    call.on_message(
        SipRequest(
            method="NOTIFY",
            uri="sip:ringfence@127.0.0.1:5070",
            headers=(
                ("Via", f"SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKnotify{cseq}"),
                ("From", f"{refer.header('To')}"),
                ("To", refer.header("From") or ""),
                ("Call-ID", refer.call_id),
                ("CSeq", f"{cseq} NOTIFY"),
                ("Event", "refer"),
                ("Subscription-State", "terminated;reason=noresource"),
                ("Content-Type", "message/sipfrag;version=2.0"),
            ),
            body=f"{status_line}\r\n".encode(),
        ),
        TRUNK,
    )


async def refer_of(trunk: FakeTrunk, call: SipCall, far_end: FarEndRtp) -> SipRequest:
    invite, _ack = await answer_call(trunk, call, far_end.port)
    far_end.send_to(offered_port(invite), 3)
    return req(await trunk.request("REFER", timeout=3.0))


def test_the_callee_is_referred_to_the_staff_line_then_the_call_ends(far_end: FarEndRtp) -> None:
    trunk = FakeTrunk()
    session = TransferringSession()

    async def scenario() -> tuple[CallResult, SipRequest, list[SipResponse], float]:
        call = make_call(trunk, prepare=lambda: session)
        task = asyncio.create_task(call.run())
        refer = await refer_of(trunk, call, far_end)
        referred = time.monotonic()
        reply(call, refer, 202, "Accepted")
        notify(call, refer, "SIP/2.0 100 Trying", cseq=1)
        await asyncio.sleep(0.1)
        assert not trunk.sent_requests("BYE"), "the BYE must wait for the new call's answer"
        notify(call, refer, "SIP/2.0 200 OK", cseq=2)
        bye = req(await trunk.request("BYE"))
        reply(call, bye, 200, "OK", tag=None)
        result = await finish(task)
        responses = [r for r, _ in trunk.responses() if r.cseq[1] == "NOTIFY"]
        return result, refer, responses, referred

    result, refer, notified, _referred = run(scenario)

    assert refer.header("Refer-To") == f"<sip:{STAFF}@127.0.0.1>"
    assert refer.header("Referred-By") == "<sip:+16465550198@127.0.0.1>"
    assert refer.header("Contact") is not None
    assert refer.cseq[1] == "REFER"
    assert f"tag={CALLEE_TAG}" in (refer.header("To") or "")
    assert [r.status for r in notified] == [200, 200]
    assert result.transferred_to == STAFF
    assert session.failed == []
    assert session.stopped == 1


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ((403, "Forbidden"), "the REFER was answered 403 Forbidden"),
        ((501, "Not Implemented"), "the REFER was answered 501 Not Implemented"),
    ],
)
def test_a_refused_refer_is_told_to_the_session_and_the_call_ends(
    far_end: FarEndRtp, answer: tuple[int, str], why: str
) -> None:
    trunk = FakeTrunk()
    session = TransferringSession()

    async def scenario() -> CallResult:
        call = make_call(trunk, prepare=lambda: session)
        task = asyncio.create_task(call.run())
        refer = await refer_of(trunk, call, far_end)
        reply(call, refer, *answer)
        bye = req(await trunk.request("BYE"))
        reply(call, bye, 200, "OK", tag=None)
        return await finish(task)

    result = run(scenario)

    assert session.failed == [why]
    assert result.transferred_to is None
    assert f"failed: {why}" in " ".join(result.notes)


def test_a_staff_line_that_is_busy_is_a_failed_transfer(far_end: FarEndRtp) -> None:
    trunk = FakeTrunk()
    session = TransferringSession()

    async def scenario() -> CallResult:
        call = make_call(trunk, prepare=lambda: session)
        task = asyncio.create_task(call.run())
        refer = await refer_of(trunk, call, far_end)
        reply(call, refer, 202, "Accepted")
        notify(call, refer, "SIP/2.0 486 Busy Here")
        bye = req(await trunk.request("BYE"))
        reply(call, bye, 200, "OK", tag=None)
        return await finish(task)

    run(scenario)

    assert session.failed == ["the staff line answered 486"]


def test_the_callee_leaving_after_an_accepted_refer_is_a_transfer(far_end: FarEndRtp) -> None:
    trunk = FakeTrunk()
    session = TransferringSession()

    async def scenario() -> tuple[CallResult, FakeTrunk]:
        call = make_call(trunk, prepare=lambda: session)
        task = asyncio.create_task(call.run())
        refer = await refer_of(trunk, call, far_end)
        reply(call, refer, 202, "Accepted")
        call.on_message(
            SipRequest(
                method="BYE",
                uri="sip:ringfence@127.0.0.1:5070",
                headers=(
                    ("Via", "SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKbye"),
                    ("From", refer.header("To") or ""),
                    ("To", refer.header("From") or ""),
                    ("Call-ID", refer.call_id),
                    ("CSeq", "9 BYE"),
                ),
            ),
            TRUNK,
        )
        return await finish(task), trunk

    result, trunk = run(scenario)

    assert result.transferred_to == STAFF
    assert session.failed == []
    assert not trunk.sent_requests("BYE")  # the callee ended it: no BYE of ours


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"SIP/2.0 200 OK\r\n", 200),
        (b"SIP/2.0 486 Busy Here", 486),
        (b"sip/2.0 100 Trying\r\nVia: x", 100),
        (b"", None),
        (b"hello", None),
        (b"SIP/2.0 OK", None),
    ],
)
def test_a_sipfrag_gives_its_status(body: bytes, status: int | None) -> None:
    assert sipfrag_status(body) == status
