"""The SIP endpoint: one UDP socket towards the trunk, on an asyncio loop in its own thread.

Every request we send goes to the trunk (it is our outbound proxy); responses to requests we
receive go back where the request came from. Incoming messages are routed to their call by
Call-ID; an OPTIONS outside a call (a trunk's keep-alive probe) is answered 200, an INVITE
that starts a new call goes to `on_invite` (the carrier answers calls to practice numbers;
refused 403 when none is set), any other request for an unknown call 481 (RFC 3261 §12.2.2).

Registration (REGISTER with digest authentication, refreshed at half its expiry) is optional:
many trunks authenticate each INVITE instead, and a PBX on the same network (or Debian's
baresip, which answers REGISTER with 501) may not take registrations at all.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

from ringfence.adapters.telephony.sip import digest
from ringfence.adapters.telephony.sip.call import T1, SipCall
from ringfence.adapters.telephony.sip.dialog import (
    ALLOW,
    USER_AGENT,
    SipAccount,
    new_branch,
    new_tag,
)
from ringfence.adapters.telephony.sip.message import (
    SipMessage,
    SipParseError,
    SipRequest,
    SipResponse,
    parse,
    response_to,
)

log = logging.getLogger("ringfence.sip")

T = TypeVar("T")
REGISTER_EXPIRES: Final = 600


class SipUnavailable(RuntimeError):
    """The endpoint could not start (the address is taken, the trunk's host does not resolve)."""


@dataclass(frozen=True, slots=True)
class Registration:
    expires_s: int = REGISTER_EXPIRES


def advertised_host(bind_host: str, trunk: tuple[str, int]) -> str:
    """The address the trunk can reach us at: the bind address, or (bound to every interface)
    the one the system routes to the trunk from."""
    if bind_host not in ("0.0.0.0", ""):
        return bind_host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(trunk)  # UDP: picks a route, sends nothing
        host: str = probe.getsockname()[0]
        return host


class SipEndpoint(asyncio.DatagramProtocol):
    def __init__(self, trunk: tuple[str, int], local_host: str) -> None:
        self.trunk = trunk
        self.local_host = local_host
        self.local_port = 0
        self._transport: asyncio.DatagramTransport | None = None
        self.calls: dict[str, SipCall] = {}
        self._waiting: dict[str, asyncio.Queue[SipResponse]] = {}  # non-call transactions
        # A new call a caller placed to us (the carrier answers it; None: refused with 403).
        self.on_invite: Callable[[SipRequest, tuple[str, int]], None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self._transport = cast(asyncio.DatagramTransport, transport)
        self.local_port = self._transport.get_extra_info("sockname")[1]

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def send(self, message: SipMessage, addr: tuple[str, int] | None = None) -> None:
        if self._transport is None:
            raise RuntimeError("the SIP endpoint is not open")
        self._transport.sendto(message.render(), addr or self.trunk)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not data.strip():
            return  # a CRLF keep-alive (RFC 5626)
        try:
            message = parse(data)
        except SipParseError as exc:
            log.warning("dropped a malformed SIP datagram from %s: %s", addr, exc)
            return
        call = self.calls.get(message.call_id)
        if call is not None:
            call.on_message(message, addr)
            return
        if isinstance(message, SipResponse):
            queue = self._waiting.get(message.call_id)
            if queue is not None:
                queue.put_nowait(message)
            return
        if message.method == "OPTIONS":
            self.send(response_to(message, 200, "OK", extra=(("Allow", ALLOW),)), addr)
        elif message.method == "INVITE":
            if self.on_invite is None:
                self.send(response_to(message, 403, "Inbound Calls Not Accepted"), addr)
            else:
                self.on_invite(message, addr)
        elif message.method != "ACK":
            self.send(response_to(message, 481, "Call/Transaction Does Not Exist"), addr)

    async def request(self, build: Any, *, timeout_s: float = 64 * T1) -> SipResponse | None:
        """Send a request outside any call (REGISTER), retransmitted every T1 (doubling, at
        most 4 s) until a final response; None after Timer F. `build()` makes the request."""
        request: SipRequest = build()
        queue: asyncio.Queue[SipResponse] = asyncio.Queue()
        self._waiting[request.call_id] = queue
        try:
            interval, waited = T1, 0.0
            self.send(request)
            while waited < timeout_s:
                try:
                    response = await asyncio.wait_for(queue.get(), timeout=interval)
                except TimeoutError:
                    waited += interval
                    interval = min(interval * 2, 4.0)
                    self.send(request)
                    continue
                if response.cseq == request.cseq and response.status >= 200:
                    return response
            return None
        finally:
            self._waiting.pop(request.call_id, None)

    async def register_forever(self, account: SipAccount, registration: Registration) -> None:
        """Keep our registration with the trunk fresh (logs failures, retries in a minute)."""
        call_id = f"{secrets.token_hex(10)}@{self.local_host}"
        tag = new_tag()
        cseq = 0
        while True:
            cseq += 1
            expires = await self._register_once(account, registration, call_id, tag, cseq)
            if expires is None:
                await asyncio.sleep(60)
                continue
            cseq += 1  # the authenticated retry used one more
            await asyncio.sleep(max(30.0, expires / 2))

    async def _register_once(
        self, account: SipAccount, registration: Registration, call_id: str, tag: str, cseq: int
    ) -> int | None:
        aor = f"sip:{account.username}@{account.domain}"
        registrar = f"sip:{account.domain}"

        def build(number: int, *extra: tuple[str, str]) -> SipRequest:
            return SipRequest(
                method="REGISTER",
                uri=registrar,
                headers=(
                    (
                        "Via",
                        f"SIP/2.0/UDP {self.local_host}:{self.local_port};"
                        f"branch={new_branch()};rport",
                    ),
                    ("Max-Forwards", "70"),
                    ("From", f"<{aor}>;tag={tag}"),
                    ("To", f"<{aor}>"),
                    ("Call-ID", call_id),
                    ("CSeq", f"{number} REGISTER"),
                    ("Contact", f"<sip:{account.username}@{self.local_host}:{self.local_port}>"),
                    ("Expires", str(registration.expires_s)),
                    ("User-Agent", USER_AGENT),
                    *extra,
                ),
            )

        response = await self.request(lambda: build(cseq))
        if response is not None and response.status in (401, 407) and account.username:
            header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
            try:
                challenge = digest.parse_challenge(response.header(header) or "")
            except digest.DigestError as exc:
                log.error("SIP registration: %s", exc)
                return None
            try:
                answer = digest.authorization(
                    challenge,
                    method="REGISTER",
                    uri=registrar,
                    username=account.username,
                    password=account.password or "",
                    cnonce=secrets.token_hex(8),
                )
            except digest.DigestError as exc:
                log.error("SIP registration: %s", exc)
                return None
            name = "Authorization" if response.status == 401 else "Proxy-Authorization"
            response = await self.request(lambda: build(cseq + 1, (name, answer)))
        if response is None:
            log.error("SIP registration: no response from %s:%d", *self.trunk)
            return None
        if not 200 <= response.status < 300:
            log.error("SIP registration refused: %d %s", response.status, response.reason)
            return None
        granted = response.header("Expires")
        log.info("registered with the SIP trunk as %s", aor)
        return int(granted) if granted and granted.isdigit() else registration.expires_s


class EndpointThread:
    """The endpoint's loop, in a daemon thread; the carrier submits work to it."""

    def __init__(self, *, bind_host: str, bind_port: int, trunk: tuple[str, int]) -> None:
        try:
            resolved = socket.getaddrinfo(trunk[0], trunk[1], socket.AF_INET, socket.SOCK_DGRAM)
        except OSError as exc:
            raise SipUnavailable(
                f"the SIP trunk's host {trunk[0]!r} does not resolve: {exc}"
            ) from exc
        self.trunk: tuple[str, int] = (str(resolved[0][4][0]), trunk[1])
        self.loop = asyncio.new_event_loop()
        local_host = advertised_host(bind_host, self.trunk)
        self.endpoint = SipEndpoint(self.trunk, local_host)
        self._thread = threading.Thread(target=self._run, name="sip-endpoint", daemon=True)
        self._thread.start()
        try:
            self.submit(
                self.loop.create_datagram_endpoint(
                    lambda: self.endpoint, local_addr=(bind_host or "0.0.0.0", bind_port)
                )
            ).result(timeout=10)
        except OSError as exc:
            self.close()
            raise SipUnavailable(
                f"cannot open the SIP socket on {bind_host}:{bind_port}: {exc}"
            ) from exc

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def call_soon(self, callback: Any, *args: Any) -> None:
        self.loop.call_soon_threadsafe(callback, *args)

    def call_later(self, delay_s: float, callback: Any, *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # closed: nothing left to run it for
            self.loop.call_soon_threadsafe(self.loop.call_later, delay_s, callback, *args)

    def close(self) -> None:
        if self.loop.is_closed():
            return

        async def shutdown() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*tasks, return_exceptions=True)
            self.endpoint.close()

        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self.submit(shutdown()).result(timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
        with contextlib.suppress(RuntimeError):
            self.loop.close()
