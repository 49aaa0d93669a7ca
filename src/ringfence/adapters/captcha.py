"""Captcha checks of public forms: Cloudflare Turnstile or hCaptcha, verified on the server.

The widget in the browser only adds a token to the form; a token proves nothing until the
server asks the vendor's siteverify endpoint about it (anyone can post any string). Both
vendors take the same form fields (`secret`, `response`, `remoteip`; hCaptcha also `sitekey`,
so a token solved for another site is refused) and answer JSON with `success` and
`error-codes`.

Fail closed: an unreachable vendor, a timeout, an HTTP status other than 200, or an answer
that cannot be read is a failed verdict. A consent form that is unavailable for a while costs
a practice a lead; one open to automation records consent for numbers that will be called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final, Protocol

import httpx
from pydantic import SecretStr

from ringfence.config import Settings

# The visitor waits on this while the form is submitted: a slow vendor is a failed check,
# not a hung page.
TIMEOUT: Final = httpx.Timeout(5.0, connect=3.0)
# Turnstile's tokens are at most 2048 characters; hCaptcha's are longer. Anything far beyond
# both is not a token, and is not worth a request to the vendor.
MAX_TOKEN_CHARS: Final = 16_384


@dataclass(frozen=True, slots=True)
class CaptchaVerdict:
    passed: bool
    reason: str  # for the log: why it failed (the vendor's error codes), or "ok"


@dataclass(frozen=True, slots=True)
class CaptchaWidget:
    """What the page needs to show the vendor's widget (implicit rendering: the vendor's
    script finds the div by its class and adds a hidden field to the form)."""

    script_url: str
    css_class: str
    response_field: str  # the name of the hidden field the widget posts its token in
    site_key: str


class CaptchaVerifier(Protocol):
    @property
    def widget(self) -> CaptchaWidget: ...

    def verify(self, token: str, remote_ip: str | None) -> CaptchaVerdict: ...


class _SiteVerify:
    """A vendor's siteverify protocol (the one both copied from reCAPTCHA)."""

    endpoint: ClassVar[str]
    script_url: ClassVar[str]
    css_class: ClassVar[str]
    response_field: ClassVar[str]

    def __init__(
        self, *, site_key: str, secret_key: SecretStr, client: httpx.Client | None = None
    ) -> None:
        self._site_key = site_key
        self._secret = secret_key
        # Injectable: tests pass httpx.Client(transport=httpx.MockTransport(...)).
        self._client = client if client is not None else httpx.Client(timeout=TIMEOUT)

    @property
    def widget(self) -> CaptchaWidget:
        return CaptchaWidget(self.script_url, self.css_class, self.response_field, self._site_key)

    def _fields(self, token: str, remote_ip: str | None) -> dict[str, str]:
        fields = {"secret": self._secret.get_secret_value(), "response": token}
        if remote_ip:
            fields["remoteip"] = remote_ip
        return fields

    def verify(self, token: str, remote_ip: str | None) -> CaptchaVerdict:
        if not token:
            return CaptchaVerdict(passed=False, reason="no captcha token in the form")
        if len(token) > MAX_TOKEN_CHARS:
            return CaptchaVerdict(passed=False, reason="captcha token too long")
        try:
            answer = self._client.post(
                self.endpoint, data=self._fields(token, remote_ip), timeout=TIMEOUT
            )
        except httpx.TimeoutException:
            return CaptchaVerdict(passed=False, reason="captcha vendor timed out")
        except httpx.HTTPError as exc:
            return CaptchaVerdict(passed=False, reason=f"captcha vendor unreachable: {exc}")
        if answer.status_code != 200:
            return CaptchaVerdict(
                passed=False, reason=f"captcha vendor answered HTTP {answer.status_code}"
            )
        try:
            payload: object = answer.json()
        except ValueError:
            return CaptchaVerdict(passed=False, reason="captcha vendor's answer is not JSON")
        if not isinstance(payload, dict):
            return CaptchaVerdict(passed=False, reason="captcha vendor's answer is not an object")
        if payload.get("success") is True:
            return CaptchaVerdict(passed=True, reason="ok")
        codes = payload.get("error-codes")
        named = ", ".join(str(code) for code in codes) if isinstance(codes, list) else ""
        return CaptchaVerdict(passed=False, reason=f"captcha refused: {named or 'no reason'}")


class TurnstileVerifier(_SiteVerify):
    """Cloudflare Turnstile."""

    endpoint = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
    script_url = "https://challenges.cloudflare.com/turnstile/v0/api.js"
    css_class = "cf-turnstile"
    response_field = "cf-turnstile-response"


class HCaptchaVerifier(_SiteVerify):
    """hCaptcha."""

    endpoint = "https://api.hcaptcha.com/siteverify"
    script_url = "https://js.hcaptcha.com/1/api.js"
    css_class = "h-captcha"
    response_field = "h-captcha-response"

    def _fields(self, token: str, remote_ip: str | None) -> dict[str, str]:
        return super()._fields(token, remote_ip) | {"sitekey": self._site_key}


def captcha_verifier(settings: Settings) -> CaptchaVerifier | None:
    """The verifier `captcha_provider` names, or None (no captcha) when it is `none`."""
    if settings.captcha_provider == "none":
        return None
    # Settings refuses a provider without both keys; this narrows the types.
    if not settings.captcha_site_key or settings.captcha_secret_key is None:
        raise ValueError(f"captcha_provider {settings.captcha_provider!r} needs both keys")
    kind = TurnstileVerifier if settings.captcha_provider == "turnstile" else HCaptchaVerifier
    return kind(site_key=settings.captcha_site_key, secret_key=settings.captcha_secret_key)
