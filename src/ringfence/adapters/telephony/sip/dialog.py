"""The requests of one outbound call, built as RFC 3261 says (no I/O): the INVITE and its
authenticated retry, the ACK of a failure (same transaction, §17.1.1.3), the CANCEL (§9.1),
and once a 2xx has made the dialog (§12.1.2) its ACK and every later request, routed by the
2xx's Record-Route and sent to its Contact, with the INVITE's credentials (§13.2.2.4, §22).
`SipCall` decides when; this module only knows how.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from ringfence.adapters.telephony.sip import digest, sdp
from ringfence.adapters.telephony.sip.message import (
    SipRequest,
    SipResponse,
    split_commas,
    tag_of,
    uri_of,
)

USER_AGENT: Final = "Ringfence"
ALLOW: Final = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY"

Credentials = tuple[str, str]  # (header name, value)


@dataclass(frozen=True, slots=True)
class SipAccount:
    """How we present ourselves to the trunk."""

    domain: str  # the host part of our From URI (the trunk's domain)
    username: str | None = None  # digest credentials, when the trunk challenges
    password: str | None = None
    display_name: str | None = None
    codecs: tuple[sdp.Codec, ...] = ("PCMU", "PCMA")


class LocalAddress(Protocol):
    local_host: str
    local_port: int


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)  # the magic cookie says: RFC 3261 branch


def answer_challenge(
    challenge: SipResponse, account: SipAccount, *, method: str, uri: str
) -> Credentials | None:
    """The header answering a 401 (Authorization) or 407 (Proxy-Authorization) for `method`;
    None without credentials or a challenge. Raises DigestError for one we cannot answer."""
    if not account.username:
        return None
    proxy = challenge.status == 407
    header = challenge.header("Proxy-Authenticate" if proxy else "WWW-Authenticate")
    if not header:
        return None
    value = digest.authorization(
        digest.parse_challenge(header),
        method=method,
        uri=uri,
        username=account.username,
        password=account.password or "",
        cnonce=secrets.token_hex(8),
    )
    return ("Proxy-Authorization" if proxy else "Authorization", value)


class Dialog:
    def __init__(
        self,
        local: LocalAddress,
        account: SipAccount,
        *,
        call_id: str,
        target_uri: str,
        caller_id: str,
        rtp_port: Callable[[], int],
    ) -> None:
        self._local = local
        self.account = account
        self.call_id = call_id
        self.target_uri = target_uri
        self._caller_id = caller_id
        self._rtp_port = rtp_port
        self.local_tag = new_tag()
        self.cseq = 0
        self.invite: SipRequest | None = None
        self.credentials: Credentials | None = None
        self.remote_tag: str | None = None
        self.remote_target = target_uri
        self.route_set: list[str] = []
        self._acks: dict[tuple[int, str | None], SipRequest] = {}  # by (CSeq, To-tag)

    # -- the INVITE transaction -------------------------------------------------------------
    def new_invite(self, credentials: Credentials | None = None) -> SipRequest:
        """The INVITE (again with the digest after a challenge: a new CSeq and branch)."""
        if credentials is not None:
            self.credentials = credentials
        self.cseq += 1
        name = self.account.display_name
        from_uri = f"sip:{self._caller_id}@{self.account.domain}"
        shown = f'"{name}" ' if name else ""
        self.invite = SipRequest(
            method="INVITE",
            uri=self.target_uri,
            headers=(
                ("Via", self.via()),
                ("Max-Forwards", "70"),
                ("From", f"{shown}<{from_uri}>;tag={self.local_tag}"),
                ("To", f"<{self.target_uri}>"),
                ("Call-ID", self.call_id),
                ("CSeq", f"{self.cseq} INVITE"),
                ("Contact", self.contact()),
                # The caller ID trunks use when they ignore From (RFC 3325).
                ("P-Asserted-Identity", f"<{from_uri}>"),
                ("Allow", ALLOW),
                ("User-Agent", USER_AGENT),
                ("Content-Type", "application/sdp"),
                *((credentials,) if credentials is not None else ()),
            ),
            body=self.offer(),
        )
        return self.invite

    def ack_failure(self, response: SipResponse) -> SipRequest:
        """ACK of a non-2xx final response: the INVITE's own transaction (§17.1.1.3)."""
        invite = self._sent_invite()
        return SipRequest(
            method="ACK",
            uri=invite.uri,
            headers=(
                ("Via", invite.header("Via") or ""),
                ("Max-Forwards", "70"),
                ("From", invite.header("From") or ""),
                ("To", response.header("To") or ""),
                ("Call-ID", self.call_id),
                ("CSeq", f"{self.cseq} ACK"),
            ),
        )

    def cancel(self) -> SipRequest:
        """CANCEL of the INVITE (§9.1): its Request-URI, Call-ID, From, To, CSeq number and top
        Via (so the same branch): a separate transaction the trunk matches to it."""
        invite = self._sent_invite()
        return SipRequest(
            method="CANCEL",
            uri=invite.uri,
            headers=(
                ("Via", invite.header("Via") or ""),
                ("Max-Forwards", "70"),
                ("From", invite.header("From") or ""),
                ("To", invite.header("To") or ""),
                ("Call-ID", self.call_id),
                ("CSeq", f"{self.cseq} CANCEL"),
                ("User-Agent", USER_AGENT),
            ),
        )

    # -- the dialog -----------------------------------------------------------------------------
    def answered(self, response: SipResponse) -> SipRequest:
        """A 2xx made the dialog: its tag, target and route set; the ACK to send (kept, to
        send again for each retransmission of the 2xx)."""
        self.remote_tag = tag_of(response.header("To"))
        contact = response.header("Contact")
        if contact:
            self.remote_target = uri_of(split_commas(contact)[0])
        self.route_set = list(reversed(response.headers_named("Record-Route")))
        ack = self.in_dialog("ACK", cseq=self.cseq)
        self._acks[(self.cseq, self.remote_tag)] = ack
        return ack

    def ack_sent_for(self, response: SipResponse) -> SipRequest | None:
        """The ACK already sent for this 2xx (a retransmission of it), if any."""
        return self._acks.get((response.cseq[0], tag_of(response.header("To"))))

    def refuse(self, response: SipResponse) -> tuple[SipRequest, SipRequest]:
        """ACK and BYE for a 2xx we cannot take (a second fork, or after the call was given
        up), so no one is left on a silent line."""
        tag = tag_of(response.header("To"))
        contact = response.header("Contact")
        target = uri_of(split_commas(contact)[0]) if contact else self.target_uri
        routes = list(reversed(response.headers_named("Record-Route")))
        number = response.cseq[0]
        ack = self._request("ACK", number, tag, target, routes)
        self._acks[(number, tag)] = ack
        self.cseq += 1
        return ack, self._request("BYE", self.cseq, tag, target, routes)

    def in_dialog(
        self, method: str, *, cseq: int | None = None, credentials: Credentials | None = None
    ) -> SipRequest:
        """A request in the dialog (a new CSeq unless given)."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        return self._request(
            method, cseq, self.remote_tag, self.remote_target, self.route_set, credentials
        )

    def is_ours(self, request: SipRequest) -> bool:
        """Whether a request from the far end belongs to our dialog (its From tag)."""
        return self.remote_tag is not None and tag_of(request.header("From")) == self.remote_tag

    # -- pieces ---------------------------------------------------------------------------------
    def via(self) -> str:
        host, port = self._local.local_host, self._local.local_port
        return f"SIP/2.0/UDP {host}:{port};branch={new_branch()};rport"

    def contact(self) -> str:
        host, port = self._local.local_host, self._local.local_port
        return f"<sip:ringfence@{host}:{port}>"

    def offer(self) -> bytes:
        return sdp.offer(
            session_id=abs(hash(self.call_id)) % 10**9,
            host=self._local.local_host,
            rtp_port=self._rtp_port(),
            codecs=self.account.codecs,
        )

    def _sent_invite(self) -> SipRequest:
        if self.invite is None:
            raise RuntimeError("no INVITE was sent")
        return self.invite

    def _from_party(self) -> str:
        """Our side of the dialog in its requests: as our INVITE named it (with our tag)."""
        return self._sent_invite().header("From") or ""

    def _to_party(self, remote_tag: str | None) -> str:
        """The far side of the dialog in its requests: the callee, with its tag once known."""
        return f"<{self.target_uri}>" + (f";tag={remote_tag}" if remote_tag else "")

    def _request(
        self,
        method: str,
        cseq: int,
        remote_tag: str | None,
        target: str,
        routes: list[str],
        credentials: Credentials | None = None,
    ) -> SipRequest:
        auth = credentials or self.credentials
        return SipRequest(
            method=method,
            uri=target,
            headers=(
                ("Via", self.via()),
                *(("Route", route) for route in routes),
                ("Max-Forwards", "70"),
                ("From", self._from_party()),
                ("To", self._to_party(remote_tag)),
                ("Call-ID", self.call_id),
                ("CSeq", f"{cseq} {method}"),
                ("User-Agent", USER_AGENT),
                *((auth,) if auth is not None else ()),
            ),
        )
