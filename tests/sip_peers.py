"""Real SIP peers on loopback for the SIP carrier's tests: SIPp (Debian's `sip-tester`) playing
a scripted user agent server, and baresip (`baresip-core`) answering automatically with a
prompt and recording what it hears. Both are installed by scripts/test.sh; a machine without
them skips these tests with the command that installs them.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import socket
import subprocess
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL = "apt-get install baresip-core sip-tester"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def free_sip_port() -> int:
    """A port free for UDP and for TCP: baresip listens for SIP on both, and a TCP port taken
    by someone else (the suite's own database and HTTP connections draw their local ports from
    the same ephemeral range) makes it exit at start with EADDRINUSE."""
    while True:
        port = free_udp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    continue
                raise
        return port


class PortTaken(AssertionError):
    """The peer exited at start because its port was taken between the probe and its bind."""


def _wait_bound(port: int, process: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """Until something holds the UDP port (the peer is listening) and the peer still runs."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if process.returncode == errno.EADDRINUSE:
                raise PortTaken(f"the SIP peer found 127.0.0.1:{port} taken")
            raise AssertionError(f"the SIP peer exited early ({process.returncode})")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    break
                raise
        time.sleep(0.05)
    else:
        raise AssertionError(f"the SIP peer never listened on 127.0.0.1:{port}")
    # baresip binds UDP first, then TCP, and exits if TCP is taken: the UDP port is held for a
    # moment by a peer about to die. Past this settle time it has bound both or exited.
    time.sleep(0.3)
    if process.poll() is not None:
        if process.returncode == errno.EADDRINUSE:
            raise PortTaken(f"the SIP peer found 127.0.0.1:{port} taken")
        raise AssertionError(f"the SIP peer exited early ({process.returncode})")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# --- SIPp -----------------------------------------------------------------------------------

_HEADERS = """[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
"""


def response(status: str, *, cseq: str | None = None, extra: str = "") -> str:
    """A SIPp <send> of a response to the last request received."""
    headers = _HEADERS if cseq is None else _HEADERS.replace("[last_CSeq:]", f"CSeq: {cseq}")
    return f"<send><![CDATA[\n\nSIP/2.0 {status}\n{extra}{headers}\n]]></send>\n"


def final_response(status: str) -> str:
    """Rings, then answers the INVITE with `status` (e.g. "486 Busy Here") and takes the ACK."""
    return (
        '<recv request="INVITE"/>'
        + response("100 Trying")
        + response("180 Ringing")
        + '<pause milliseconds="200"/>'
        + response(status)
        + '<recv request="ACK"/>'
    )


RINGS_UNTIL_CANCELED = (
    '<recv request="INVITE"/>'
    + response("100 Trying")
    + response("180 Ringing")
    + '<recv request="CANCEL"/>'
    + response("200 OK")
    + response("487 Request Terminated", cseq="1 INVITE")
    + '<recv request="ACK"/>'
)


def challenges_then(status: str, *, username: str, password: str) -> str:
    """Challenges the INVITE (401), checks the digest of the second one with SIPp's own
    implementation: right → rings and answers `status`; wrong → 403."""
    challenge = 'WWW-Authenticate: Digest realm="trunk.test", nonce="4b1f3a9c", algorithm=MD5\n'
    return (
        '<recv request="INVITE"/>'
        + response("401 Unauthorized", extra=challenge)
        + '<recv request="ACK"/>'
        + '<recv request="INVITE" check_it="true"><action>'
        + f'<verifyauth assign_to="authvalid" username="{username}" password="{password}"/>'
        + "</action></recv>"
        + '<nop hide="true" test="authvalid" next="good"/>'
        + response("403 Forbidden")
        + '<recv request="ACK" next="end"/>'
        + '<label id="good"/>'
        + response("180 Ringing")
        + response(status)
        + '<recv request="ACK"/>'
        + '<label id="end"/>'
    )


def proxy_challenge_then(status: str, *, username: str) -> str:
    """Challenges the INVITE with 407 and expects Proxy-Authorization for `username` in the
    second (SIPp verifies digests only in Authorization: the 401 scenario checks the math)."""
    challenge = 'Proxy-Authenticate: Digest realm="trunk.test", nonce="77aa01", qop="auth"\n'
    pattern = f"Digest username=.{username}., realm=.trunk.test., nonce=.77aa01..*qop=auth"
    return (
        '<recv request="INVITE"/>'
        + response("407 Proxy Authentication Required", extra=challenge)
        + '<recv request="ACK"/>'
        + '<recv request="INVITE"><action>'
        + f'<ereg regexp="{pattern}" search_in="hdr" header="Proxy-Authorization:" '
        + 'check_it="true" assign_to="auth"/>'
        + "</action></recv>"
        + response("180 Ringing")
        + response(status)
        + '<recv request="ACK"/>'
        + '<Reference variables="auth"/>'  # SIPp refuses a variable assigned and never read
    )


@dataclass
class Sipp:
    port: int
    process: subprocess.Popen[bytes]

    def wait(self, timeout_s: float = 30.0) -> int:
        """SIPp's exit status once its one call is over: 0 when the scenario ran as written."""
        return self.process.wait(timeout_s)


@contextlib.contextmanager
def sipp(
    tmp_path: Path, scenario: str | None = None, *, builtin: str | None = None
) -> Iterator[Sipp]:
    """SIPp on 127.0.0.1 playing `scenario` (XML body) or a built-in (`uas`) for one call."""
    if shutil.which("sipp") is None:
        pytest.skip(f"SIPp is not installed ({INSTALL})")
    port = free_udp_port()
    args = ["sipp", "-i", "127.0.0.1", "-p", str(port), "-m", "1", "-nostdin", "-timeout", "60s"]
    if scenario is not None:
        path = tmp_path / f"scenario-{port}.xml"
        path.write_text(
            '<?xml version="1.0" encoding="ISO-8859-1" ?>\n'
            f'<scenario name="ringfence test">\n{scenario}\n</scenario>\n'
        )
        args += ["-sf", str(path)]
    else:
        args += ["-sn", builtin or "uas"]
    process = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_bound(port, process)
        yield Sipp(port, process)
    finally:
        _stop(process)


# --- baresip ----------------------------------------------------------------------------------


@dataclass
class Baresip:
    port: int
    process: subprocess.Popen[bytes]
    directory: Path
    user: str = "callee"

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@127.0.0.1:{self.port}"

    def heard(self) -> bytes:
        """What baresip received (the agent's side), PCM16 at 8 kHz, from its sndfile dump."""
        [dump] = sorted((self.directory / "snd").glob("*-dec.wav"))
        with wave.open(str(dump)) as audio:
            assert (audio.getframerate(), audio.getnchannels()) == (8000, 1)
            return audio.readframes(audio.getnframes())


def write_wav(path: Path, pcm16: bytes, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(pcm16)


@contextlib.contextmanager
def baresip(
    tmp_path: Path,
    prompt_pcm16: bytes,
    *,
    user: str = "callee",
    transfers: bool = False,
    dial: str | None = None,
    port: int | None = None,
) -> Iterator[Baresip]:
    """baresip answering calls to `user` at once (PCMU), playing `prompt_pcm16` (8 kHz; pad it
    with silence: baresip hangs up when its source ends) and recording what it hears. (It
    answers 404 to any other user: dial `sip:USER@...`, or a number as the user.) With
    `transfers`, it also obeys a REFER (its menu module: it calls the Refer-To address and
    reports the new call in NOTIFYs), as a phone does when it is transferred. With `dial`, it
    calls that URI at start-up instead (as `user`: the caller ID), playing the prompt from
    the answer."""
    if shutil.which("baresip") is None:
        pytest.skip(f"baresip is not installed ({INSTALL})")
    directory = tmp_path / "baresip"
    (directory / "snd").mkdir(parents=True)
    write_wav(directory / "prompt.wav", prompt_pcm16)
    # A port can be taken between the probe and baresip's bind (another process's connection
    # drawing it from the ephemeral range): start again on a fresh one, unless the caller
    # chose the port (it was given to someone else already).
    attempts = 1 if port else 5
    for attempt in range(attempts):
        peer = _start_baresip(directory, port or free_sip_port(), user, transfers, dial)
        try:
            _wait_bound(peer.port, peer.process)
        except PortTaken:
            _stop(peer.process)
            if attempt == attempts - 1:
                raise
            continue
        break
    try:
        yield peer
    finally:
        _stop(peer.process)


def _start_baresip(
    directory: Path, port: int, user: str, transfers: bool, dial: str | None
) -> Baresip:
    (directory / "config").write_text(
        f"sip_listen 127.0.0.1:{port}\n"
        "net_interface 127.0.0.1\n"
        f"audio_source aufile,{directory / 'prompt.wav'}\n"
        "audio_player aufile,/dev/null\n"
        "audio_alert aufile,/dev/null\n"
        "module_path /usr/lib/baresip/modules\n"
        "module g711.so\nmodule aufile.so\nmodule sndfile.so\nmodule account.so\n"
        + ("module menu.so\n" if transfers or dial else "")
        + f"snd_path {directory / 'snd'}\n"
    )
    (directory / "accounts").write_text(
        f"<sip:{user}@127.0.0.1:{port}>;answermode=auto;audio_codecs=PCMU;regint=0\n"
    )
    with (directory / "log.txt").open("wb") as log:
        process = subprocess.Popen(
            ["baresip", "-f", str(directory), *(("-e", f"/dial {dial}") if dial else ())],
            cwd=directory,
            stdout=log,
            stderr=log,
        )
    return Baresip(port, process, directory, user)
