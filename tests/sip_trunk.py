"""A plain UDP socket on loopback playing a SIP trunk that places calls to Ringfence: every
message Ringfence sends back is read as it is on the wire (the answering side's protocol tests,
and the inbound ring-to-greeting benchmark)."""

from __future__ import annotations

import socket
import time

from ringfence.adapters.telephony.sip.message import SipRequest, SipResponse, parse

LINE = "+12125550199"  # the practice line called
CALLER = "+12125550147"


class Trunk:
    """A UDP socket on 127.0.0.1 standing in for the SIP trunk."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(5.0)
        self.port: int = self.sock.getsockname()[1]
        self.host = host
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((host, 0))
        self.rtp.settimeout(5.0)

    def close(self) -> None:
        self.sock.close()
        self.rtp.close()

    def invite(
        self,
        to: tuple[str, int],
        *,
        call_id: str,
        codecs: str = "8 0",
        caller: str = CALLER,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> SipRequest:
        rtp_port = self.rtp.getsockname()[1]
        body = (
            f"v=0\r\no=caller 1 1 IN IP4 {self.host}\r\ns=-\r\nc=IN IP4 {self.host}\r\nt=0 0\r\n"
            f"m=audio {rtp_port} RTP/AVP {codecs}\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:8 PCMA/8000\r\n"
        ).encode()
        invite = SipRequest(
            method="INVITE",
            uri=f"sip:{LINE}@{to[0]}:{to[1]}",
            headers=(
                ("Via", f"SIP/2.0/UDP {self.host}:{self.port};branch=z9hG4bK{call_id}"),
                ("Max-Forwards", "70"),
                ("From", f"<sip:{caller}@{self.host}>;tag=caller1"),
                ("To", f"<sip:{LINE}@{to[0]}>"),
                ("Call-ID", call_id),
                ("CSeq", "1 INVITE"),
                ("Contact", f"<sip:{caller}@{self.host}:{self.port}>"),
                ("Content-Type", "application/sdp"),
                *extra,
            ),
            body=body,
        )
        self.send(invite, to)
        return invite

    def request(
        self, method: str, invite: SipRequest, to: tuple[str, int], *, to_header: str, cseq: str
    ) -> None:
        headers = tuple(
            (k, v)
            for k, v in invite.headers
            if k in ("Via", "Max-Forwards", "From", "Call-ID", "Contact")
        )
        self.send(
            SipRequest(
                method=method,
                uri=invite.uri,
                headers=(*headers, ("To", to_header), ("CSeq", cseq)),
            ),
            to,
        )

    def send(self, message: SipRequest | SipResponse, to: tuple[str, int]) -> None:
        self.sock.sendto(message.render(), to)

    def receive(self) -> SipRequest | SipResponse:
        data, _ = self.sock.recvfrom(65535)
        return parse(data)

    def response(self, status: int, *, method: str = "INVITE") -> SipResponse:
        """The next response `status` to `method`, skipping others."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message = self.receive()
            if (
                isinstance(message, SipResponse)
                and message.status == status
                and message.cseq[1] == method
            ):
                return message
        raise AssertionError(f"no {status} to {method}")

    def next_request(self, method: str) -> SipRequest:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message = self.receive()
            if isinstance(message, SipRequest) and message.method == method:
                return message
        raise AssertionError(f"no {method}")
