"""The SIP carrier's answering side: INVITEs for new calls, from the trunk, become
`IncomingSipCall`s on the endpoint's loop (issue 19).

Only the trunk (or PBX) we send our calls to may place calls to us: an INVITE from any other
address is refused 403 without a word to the shell, so a stranger on the network cannot ring
the agent, fill the call log or hold lines. Each call is held until it ends; `close` (a
worker's shutdown) hangs every one up cleanly: BYE once answered, a final response before.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import secrets
import threading
from collections import deque

from ringfence.adapters.telephony.sip.call import CallResult
from ringfence.adapters.telephony.sip.dialog import SipAccount
from ringfence.adapters.telephony.sip.endpoint import EndpointThread
from ringfence.adapters.telephony.sip.incoming import IncomingAnswerer, IncomingSipCall
from ringfence.adapters.telephony.sip.message import SipRequest, response_to, tag_of

log = logging.getLogger("ringfence.sip")

# A finished call stays routable this long: its last response's retransmissions and a late
# BYE still find it (64·T1).
_LINGER_S = 32.0


class SipAnswering:
    def __init__(
        self,
        endpoint: EndpointThread,
        account: SipAccount,
        answer: IncomingAnswerer,
        *,
        max_call_s: float,
    ) -> None:
        self._thread = endpoint
        self._account = account
        self._answer = answer
        self._max_call_s = max_call_s
        self._lock = threading.Lock()
        self._calls: dict[str, tuple[IncomingSipCall, asyncio.Task[CallResult]]] = {}
        # What the latest calls came to (for logs and tests), bounded: a worker runs for weeks.
        self.finished: deque[CallResult] = deque(maxlen=100)
        endpoint.loop.call_soon_threadsafe(setattr, endpoint.endpoint, "on_invite", self._invite)

    def _invite(self, invite: SipRequest, source: tuple[str, int]) -> None:
        """On the loop: a new call (its Call-ID unknown to the endpoint)."""
        endpoint = self._thread.endpoint
        if source[0] != endpoint.trunk[0]:
            log.warning("refused an INVITE from %s: not the SIP trunk", source[0])
            endpoint.send(response_to(invite, 403, "Not From The Trunk"), source)
            return
        if tag_of(invite.header("To")) is not None:
            # A re-INVITE of a dialog we do not have (one that ended, or another process's).
            endpoint.send(response_to(invite, 481, "Call/Transaction Does Not Exist"), source)
            return
        call = IncomingSipCall(
            endpoint,
            self._account,
            invite,
            source,
            key=f"sip-in-{secrets.token_hex(8)}",
            answer=self._answer,
            max_call_s=self._max_call_s,
        )
        endpoint.calls[invite.call_id] = call
        task = asyncio.get_running_loop().create_task(call.run())
        with self._lock:
            self._calls[invite.call_id] = (call, task)
        task.add_done_callback(lambda done: self._ended(invite.call_id, done))

    def _ended(self, call_id: str, task: asyncio.Task[CallResult]) -> None:
        with self._lock:
            self._calls.pop(call_id, None)
        if task.cancelled():
            pass
        elif (error := task.exception()) is not None:  # its record is settled as lost later
            log.error("incoming SIP call %s failed: %r", call_id, error)
        else:
            self.finished.append(task.result())
        self._thread.loop.call_later(_LINGER_S, self._thread.endpoint.calls.pop, call_id, None)

    @property
    def live(self) -> int:
        with self._lock:
            return len(self._calls)

    def close(self, timeout_s: float) -> None:
        """Hang up every call held here and wait (at most `timeout_s`) for each to end."""
        with self._lock:
            held = list(self._calls.values())
        for call, _task in held:
            self._thread.call_soon(call.hang_up, "ringfence")

        async def settle() -> None:
            tasks = [task for _call, task in held]
            if tasks:
                await asyncio.wait(tasks, timeout=timeout_s)

        if held:
            try:
                self._thread.submit(settle()).result(timeout=timeout_s + 1)
            except (concurrent.futures.TimeoutError, RuntimeError):
                log.warning(
                    "%d incoming SIP call(s) did not end within %.0f s", len(held), timeout_s
                )
