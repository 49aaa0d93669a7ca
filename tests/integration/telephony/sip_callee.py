"""The SIP network of the contract suite: SIPp on loopback as the callee's side of a trunk, and a
clock that runs in real time.

Like the sandbox and the fake of Twilio, each call's fate is decided by the last two digits of
the number dialed: 00 a person (rings 1.5 s, answers, echoes our audio, hangs up after 16 s),
02 no answer (rings until we CANCEL), 03 busy (486), 04 refused (404 Not Found). A CANCEL while
it rings and a BYE while it talks are answered on every branch, so hanging up (ours, or the
carrier's `close()`) always completes. Every INVITE is written down (its Call-ID and the number
dialed) as it arrives: the network's own count of the calls placed to a number.

Unlike them, a SIP call runs in real time against a real peer: `RealTimeClock.advance` waits.
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest

from ringfence.domain.vocabulary import CallOutcome
from tests.sip_peers import INSTALL, _stop, _wait_bound, free_udp_port

# The callee picks up after ringing this long, and hangs up this long after the answer: long
# enough for the contract's "hang up 10 s into the call" to come first, with room to spare.
RINGS_S = 1.5
TALKS_S = 16.0
# Longer than any of its calls (the longest: a no-answer's 15 s of ringing, a person's 17.5 s).
HORIZON = timedelta(seconds=25)

SUFFIX = {
    CallOutcome.CONNECTED: "00",
    CallOutcome.NO_ANSWER: "02",
    CallOutcome.BUSY: "03",
    CallOutcome.FAILED: "04",
}

_numbers = count(1)


def number_for(outcome: CallOutcome) -> str:
    """A number never dialed before in this run, with the fate of `outcome`: a call's INVITEs
    are told apart from every other call's by the number they dial."""
    return f"+1212{next(_numbers) % 10**5:05d}{SUFFIX[outcome]}"


class RealTimeClock:
    """Real time, as the contract's clock: `advance` waits that long. `now()` runs on the
    monotonic clock, as the SIP carrier's own durations do."""

    def __init__(self) -> None:
        self._start = datetime.now(UTC)
        self._began = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._began)

    def advance(self, delta: timedelta) -> datetime:
        time.sleep(delta.total_seconds())
        return self.now()


_REPLY = """[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$cseq]
"""


def _reply(status: str, *, extra: str = "", body: str = "", retrans: bool = False) -> str:
    """A response to the call's INVITE (its CSeq kept, whatever was received since)."""
    attributes = ' retrans="500"' if retrans else ""
    return (
        f"<send{attributes}><![CDATA[\n\nSIP/2.0 {status}\n{_REPLY}{extra}"
        f"Content-Length: [len]\n\n{body}]]></send>\n"
    )


_OK_TO_LAST = """<send><![CDATA[

SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
"""

_ANSWER = _reply(
    "200 OK",
    retrans=True,
    extra="Contact: <sip:callee@[local_ip]:[local_port]>\nContent-Type: application/sdp\n",
    body=(
        "v=0\no=callee 1 1 IN IP[local_ip_type] [local_ip]\ns=-\n"
        "c=IN IP[media_ip_type] [media_ip]\nt=0 0\n"
        "m=audio [media_port] RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
    ),
)

_HANGS_UP = """<send retrans="500"><![CDATA[

BYE [$contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: [$callee];tag=[pid]SIPpTag01[call_number]
To: [$caller]
Call-ID: [call_id]
CSeq: 1 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
"""

_CANCELED = _OK_TO_LAST + _reply("487 Request Terminated") + '<recv request="ACK" next="end"/>\n'


def _scenario(log: str) -> str:
    def fate(name: str, suffix: str) -> str:
        return (
            f'<ereg regexp="^INVITE sip:[+][0-9]+{suffix}@" search_in="msg" assign_to="{name}"/>\n'
        )

    return (
        '<recv request="INVITE"><action>\n'
        '<ereg regexp="^INVITE sip:([^@]*)@" search_in="msg" check_it="true" '
        'assign_to="uri,number"/>\n'
        '<ereg regexp="[0-9]+ INVITE" search_in="hdr" header="CSeq:" check_it="true" '
        'assign_to="cseq"/>\n'
        '<ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="caller"/>\n'
        '<ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="callee"/>\n'
        '<ereg regexp="&lt;([^&gt;]*)&gt;" search_in="hdr" header="Contact:" check_it="true" '
        'assign_to="contact_header,contact"/>\n'
        + fate("rings", SUFFIX[CallOutcome.NO_ANSWER])
        + fate("busy", SUFFIX[CallOutcome.BUSY])
        + fate("refused", SUFFIX[CallOutcome.FAILED])
        + f'<exec command="echo [call_id] [$number] >> {shlex.quote(log)}"/>\n'
        "</action></recv>\n"
        # SIPp takes a message it receives while between two steps that are not `recv` (two
        # sends) as unexpected, and drops the call: so the branches part before anything is
        # sent, each step after a provisional response is a `recv` (a CANCEL may follow it at
        # once), and there is no 100 Trying (a UAS need not send one: the 180 stops our
        # retransmissions).
        + '<nop hide="true" test="refused" next="refused"/>\n'
        + '<nop hide="true" test="busy" next="busy"/>\n'
        + '<nop hide="true" test="rings" next="rings"/>\n'
        # A person: rings, answers, talks; a CANCEL or a BYE ends it at any point.
        + _reply("180 Ringing")
        + f'<recv request="CANCEL" timeout="{RINGS_S * 1000:.0f}" ontimeout="answer"/>\n'
        + _CANCELED
        + '<label id="answer"/>\n'
        + _ANSWER
        # A CANCEL that crossed the answer is too late (RFC 3261 §9.2): the caller's BYE follows.
        + '<recv request="CANCEL" optional="true" next="crossed"/>\n'
        + '<recv request="ACK"/>\n'
        + f'<recv request="BYE" timeout="{TALKS_S * 1000:.0f}" ontimeout="hangs_up"/>\n'
        + _OK_TO_LAST
        + '<nop hide="true" next="end"/>\n'
        + '<label id="crossed"/>\n'
        + _OK_TO_LAST
        + '<recv request="ACK"/>\n'
        + '<recv request="BYE"/>\n'
        + _OK_TO_LAST
        + '<nop hide="true" next="end"/>\n'
        + '<label id="hangs_up"/>\n'
        + _HANGS_UP
        + '<recv response="200" next="end"/>\n'
        # Busy, after a short ring.
        + '<label id="busy"/>\n'
        + _reply("180 Ringing")
        + '<recv request="CANCEL" timeout="300" ontimeout="busy_now"/>\n'
        + _CANCELED
        + '<label id="busy_now"/>\n'
        + _reply("486 Busy Here")
        + '<recv request="ACK" next="end"/>\n'
        # Refused at once.
        + '<label id="refused"/>\n'
        + _reply("404 Not Found")
        + '<recv request="ACK" next="end"/>\n'
        # Rings until canceled.
        + '<label id="rings"/>\n'
        + _reply("180 Ringing")
        + '<recv request="CANCEL"/>\n'
        + _CANCELED
        + '<label id="end"/>\n'
        # SIPp refuses a variable assigned and never read: the regexps' whole matches.
        + '<Reference variables="uri,contact_header"/>\n'
    )


@dataclass
class SipCallee:
    """SIPp answering every call sent to 127.0.0.1:`port` by the number's fate."""

    port: int
    process: subprocess.Popen[bytes]
    invites: Path

    def number_called_by(self, call_id: str, *, timeout_s: float = 10.0) -> str | None:
        """The number the call with this Call-ID dialed, once its INVITE has arrived (None if
        it never does within `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while True:
            dialed = self._calls().get(call_id)
            if dialed is not None or time.monotonic() >= deadline:
                return dialed
            time.sleep(0.02)

    def calls_to(self, number: str) -> int:
        """How many calls (Call-IDs) have dialed `number` so far."""
        return sum(1 for dialed in self._calls().values() if dialed == number)

    def _calls(self) -> dict[str, str]:
        if not self.invites.exists():
            return {}
        # Whole lines only: a line still being written is read at the next poll.
        lines = self.invites.read_text().split("\n")[:-1]
        return dict(line.split(" ", 1) for line in lines)


@contextlib.contextmanager
def sip_callee(directory: Path) -> Iterator[SipCallee]:
    """SIPp as the callee, its scenario, logs and INVITE record in `directory`; skips the test
    where SIPp is not installed."""
    if shutil.which("sipp") is None:
        pytest.skip(f"SIPp is not installed ({INSTALL})")
    directory.mkdir(parents=True, exist_ok=True)
    invites = directory / "invites.log"
    scenario = directory / "callee.xml"
    scenario.write_text(
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n'
        f'<scenario name="ringfence contract callee">\n{_scenario(str(invites))}</scenario>\n'
    )
    port = free_udp_port()
    args = [
        "sipp", "-i", "127.0.0.1", "-p", str(port), "-sf", str(scenario), "-nostdin",
        "-rtp_echo", "-mp", str(free_udp_port()), "-trace_err",
    ]  # fmt: skip
    with (directory / "sipp.log").open("wb") as log:
        process = subprocess.Popen(args, cwd=directory, stdout=log, stderr=log)
    try:
        _wait_bound(port, process)
        yield SipCallee(port, process, invites)
    finally:
        _stop(process)
