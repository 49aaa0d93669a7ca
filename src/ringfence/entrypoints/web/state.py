"""What the web pages share across requests: the signers (all keyed by the one secret) and the
page renderer. Built once per application by `site.install_web`."""

from __future__ import annotations

from dataclasses import dataclass

from ringfence.clock import Clock
from ringfence.entrypoints.web.csrf import CsrfTokens
from ringfence.entrypoints.web.flash import FlashCookies
from ringfence.entrypoints.web.pages import Pages
from ringfence.entrypoints.web.sessions import SessionCookies


@dataclass(frozen=True, slots=True)
class WebState:
    sessions: SessionCookies
    csrf: CsrfTokens
    flashes: FlashCookies
    pages: Pages

    @classmethod
    def build(cls, *, secret: str, clock: Clock) -> WebState:
        csrf = CsrfTokens(secret, clock)
        flashes = FlashCookies(secret, clock)
        return cls(
            sessions=SessionCookies(secret, clock),
            csrf=csrf,
            flashes=flashes,
            pages=Pages(csrf=csrf, flashes=flashes),
        )
