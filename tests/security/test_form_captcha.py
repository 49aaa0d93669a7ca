"""Public forms' optional captcha (finding 3's last open item) and the expiry of the page's
signed `shown` token.

The route is tested with a fake verifier on `app.state.captcha` (it passes one token); the
Turnstile and hCaptcha adapters are tested against fake vendor servers (`httpx.MockTransport`)
that check the fields the vendors document. A failed, missing or unverifiable captcha records
nothing: no contact, no consent, no workflow event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from ringfence.adapters.captcha import (
    CaptchaVerdict,
    CaptchaWidget,
    HCaptchaVerifier,
    TurnstileVerifier,
    captcha_verifier,
)
from ringfence.adapters.db.orm import ConsentRecord, Contact
from ringfence.adapters.db.workflows import WorkflowEvent
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.config import Settings
from ringfence.entrypoints.asgi import create_app
from ringfence.entrypoints.web.routes.public_forms import (
    CAPTCHA_FAILED,
    EXPIRED,
    SHOWN_LIFETIME,
    _signer,
)
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT, _form
from tests.security.test_abuse_limits import _count, _shown

GOOD_TOKEN = "solved-by-a-person"
PERSON = {"first_name": "Ana", "last_name": "Diaz", "phone": "(212) 555-0147", "consent": "yes"}


FAKE_WIDGET = CaptchaWidget(
    script_url="https://captcha.example/api.js",
    css_class="fake-captcha",
    response_field="fake-captcha-response",
    site_key="fake-site-key",
)


@dataclass
class FakeCaptcha:
    """A verifier that passes `GOOD_TOKEN` only, and remembers what it was asked."""

    widget: CaptchaWidget = FAKE_WIDGET
    asked: list[tuple[str, str | None]] = field(default_factory=list)

    def verify(self, token: str, remote_ip: str | None) -> CaptchaVerdict:
        self.asked.append((token, remote_ip))
        return CaptchaVerdict(passed=token == GOOD_TOKEN, reason="fake")


@pytest.fixture
def captcha(client: TestClient) -> FakeCaptcha:
    fake = FakeCaptcha()
    client.app.state.captcha = fake  # type: ignore[attr-defined]
    return fake


def _recorded(container: Container) -> tuple[int, int, int]:
    return (
        _count(container, Contact),
        _count(container, ConsentRecord),
        _count(container, WorkflowEvent),
    )


# The route with a captcha configured.


@pytest.mark.parametrize("token", [None, "", "forged"], ids=["missing", "empty", "wrong"])
def test_a_failed_or_missing_captcha_records_nothing_and_asks_again(
    client: TestClient,
    container: Container,
    tenant: Tenant,
    captcha: FakeCaptcha,
    token: str | None,
) -> None:
    form_id = _form(client, tenant, GOOD_TEXT)
    person = TestClient(client.app)
    data = PERSON | {"shown": _shown(person, form_id)}
    if token is not None:
        data[captcha.widget.response_field] = token
    answer = person.post(f"/f/{form_id}", data=data)
    assert answer.status_code == 422
    assert CAPTCHA_FAILED in answer.text
    # What was typed is kept; the check is shown again for another try.
    assert 'value="Ana"' in answer.text
    assert 'value="(212) 555-0147"' in answer.text
    assert 'class="fake-captcha" data-sitekey="fake-site-key"' in answer.text
    assert _recorded(container) == (0, 0, 0)
    assert captcha.asked == [(token or "", "testclient")]  # with the client's address


def test_a_passing_captcha_records_the_consent(
    client: TestClient, container: Container, tenant: Tenant, captcha: FakeCaptcha
) -> None:
    form_id = _form(client, tenant, GOOD_TEXT)
    person = TestClient(client.app)
    data = PERSON | {"shown": _shown(person, form_id), captcha.widget.response_field: GOOD_TOKEN}
    answer = person.post(f"/f/{form_id}", data=data)
    assert answer.status_code == 200, answer.text
    assert "Thank you" in answer.text
    contacts, consents, events = _recorded(container)
    assert (contacts, consents) == (1, 1)
    assert events >= 1  # so the zero above means no workflow started
    assert captcha.asked == [(GOOD_TOKEN, "testclient")]


def test_a_filled_honeypot_is_dropped_before_the_captcha_is_asked(
    client: TestClient, container: Container, tenant: Tenant, captcha: FakeCaptcha
) -> None:
    form_id = _form(client, tenant, GOOD_TEXT)
    bot = TestClient(client.app)
    data = PERSON | {"shown": _shown(bot, form_id), "website": "https://spam.example"}
    answer = bot.post(f"/f/{form_id}", data=data | {captcha.widget.response_field: GOOD_TOKEN})
    assert answer.status_code == 200
    assert "Thank you" in answer.text
    assert _recorded(container) == (0, 0, 0)
    assert captcha.asked == []  # no vendor request spent on it


# The page: the widget and the vendor's script only when configured.


def test_without_a_captcha_the_page_has_no_widget_or_script(
    client: TestClient, tenant: Tenant
) -> None:
    page = client.get(f"/f/{_form(client, tenant, GOOD_TEXT)}").text
    for vendor in ("cf-turnstile", "h-captcha", "challenges.cloudflare.com", "hcaptcha.com"):
        assert vendor not in page


@pytest.mark.parametrize(
    ("provider", "div", "script"),
    [
        (
            "turnstile",
            '<div class="cf-turnstile" data-sitekey="site-key-1"></div>',
            '<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer>',
        ),
        (
            "hcaptcha",
            '<div class="h-captcha" data-sitekey="site-key-1"></div>',
            '<script src="https://js.hcaptcha.com/1/api.js" async defer>',
        ),
    ],
)
def test_a_configured_captcha_is_on_the_page_and_not_blocked_by_its_policy(
    client: TestClient, container: Container, tenant: Tenant, provider: str, div: str, script: str
) -> None:
    form_id = _form(client, tenant, GOOD_TEXT)
    container.settings.captcha_provider = provider  # type: ignore[assignment]
    container.settings.captcha_site_key = "site-key-1"
    container.settings.captcha_secret_key = SecretStr("secret-key-1")
    with TestClient(create_app(container)) as configured:  # the settings build the verifier
        page = configured.get(f"/f/{form_id}")
    assert div in page.text
    assert script in page.text
    # The page's policy must not block the vendor's script or its frame. It has no script-src,
    # frame-src or default-src today; if one is added, it must name the vendor.
    origin = script.split('"')[1].split("/")[2]
    policy = page.headers["Content-Security-Policy"].split(";")
    directives = dict(part.strip().partition(" ")[::2] for part in policy)
    for name in ("script-src", "frame-src", "child-src", "default-src"):
        if name in directives:
            assert origin in directives[name] or "*" in directives[name].split(), name


# The adapters against fake vendor servers.

VENDORS = [
    pytest.param(
        TurnstileVerifier,
        "https://challenges.cloudflare.com/turnstile/v0/siteverify",
        {},
        id="turnstile",
    ),
    pytest.param(
        HCaptchaVerifier,
        "https://api.hcaptcha.com/siteverify",
        {"sitekey": ["site"]},
        id="hcaptcha",
    ),
]
Vendor = type[TurnstileVerifier] | type[HCaptchaVerifier]
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def vendor_requests() -> list[httpx.Request]:
    return []


def _against(
    kind: Vendor, handler: Handler, seen: list[httpx.Request]
) -> TurnstileVerifier | HCaptchaVerifier:
    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.Client(transport=httpx.MockTransport(recording))
    return kind(site_key="site", secret_key=SecretStr("s3cret"), client=client)


@pytest.mark.parametrize(("kind", "url", "extra"), VENDORS)
def test_a_solved_token_passes_with_the_documented_fields(
    kind: Vendor, url: str, extra: dict[str, list[str]], vendor_requests: list[httpx.Request]
) -> None:
    verifier = _against(
        kind, lambda _r: httpx.Response(200, json={"success": True}), vendor_requests
    )
    verdict = verifier.verify("tok", "203.0.113.7")
    assert verdict == CaptchaVerdict(passed=True, reason="ok")
    (sent,) = vendor_requests
    assert (sent.method, str(sent.url)) == ("POST", url)
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    fields = parse_qs(sent.content.decode())
    assert (
        fields
        == {
            "secret": ["s3cret"],
            "response": ["tok"],
            "remoteip": ["203.0.113.7"],
        }
        | extra
    )


@pytest.mark.parametrize(("kind", "url", "extra"), VENDORS)
def test_an_unknown_address_is_left_out(
    kind: Vendor, url: str, extra: dict[str, list[str]], vendor_requests: list[httpx.Request]
) -> None:
    verifier = _against(
        kind, lambda _r: httpx.Response(200, json={"success": True}), vendor_requests
    )
    assert verifier.verify("tok", None).passed
    assert "remoteip" not in parse_qs(vendor_requests[0].content.decode())


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("vendor too slow", request=request)


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(("kind", "url", "extra"), VENDORS)
@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (
            lambda _r: httpx.Response(
                200,
                json={"success": False, "error-codes": ["invalid-input-response", "bad-request"]},
            ),
            "captcha refused: invalid-input-response, bad-request",
        ),
        (lambda _r: httpx.Response(200, json={"success": False}), "captcha refused: no reason"),
        (lambda _r: httpx.Response(500, text="oops"), "captcha vendor answered HTTP 500"),
        (
            lambda _r: httpx.Response(302, headers={"Location": "https://elsewhere.example"}),
            "captcha vendor answered HTTP 302",
        ),
        (_timeout, "captcha vendor timed out"),
        (_unreachable, "captcha vendor unreachable: connection refused"),
        (lambda _r: httpx.Response(200, text="<html>"), "captcha vendor's answer is not JSON"),
        (lambda _r: httpx.Response(200, json=[True]), "captcha vendor's answer is not an object"),
        # Only a JSON true passes: "true" as text is not the vendor's answer.
        (lambda _r: httpx.Response(200, json={"success": "true"}), "captcha refused: no reason"),
    ],
    ids=[
        "refused",
        "refused-silently",
        "500",
        "redirect",
        "timeout",
        "down",
        "html",
        "list",
        "text",
    ],
)
def test_anything_but_a_clear_yes_fails_closed(
    kind: Vendor,
    url: str,
    extra: dict[str, list[str]],
    handler: Handler,
    reason: str,
    vendor_requests: list[httpx.Request],
) -> None:
    verdict = _against(kind, handler, vendor_requests).verify("tok", "203.0.113.7")
    assert verdict == CaptchaVerdict(passed=False, reason=reason)


@pytest.mark.parametrize(("kind", "url", "extra"), VENDORS)
@pytest.mark.parametrize("token", ["", "x" * 20_000], ids=["empty", "huge"])
def test_no_token_is_not_worth_asking_the_vendor(
    kind: Vendor,
    url: str,
    extra: dict[str, list[str]],
    token: str,
    vendor_requests: list[httpx.Request],
) -> None:
    verifier = _against(
        kind, lambda _r: httpx.Response(200, json={"success": True}), vendor_requests
    )
    assert not verifier.verify(token, "203.0.113.7").passed
    assert vendor_requests == []


def test_the_widgets_name_their_vendors_fields() -> None:
    turnstile = TurnstileVerifier(site_key="a", secret_key=SecretStr("b")).widget
    hcaptcha = HCaptchaVerifier(site_key="a", secret_key=SecretStr("b")).widget
    assert (turnstile.css_class, turnstile.response_field) == (
        "cf-turnstile",
        "cf-turnstile-response",
    )
    assert (hcaptcha.css_class, hcaptcha.response_field) == ("h-captcha", "h-captcha-response")


# Settings.


@pytest.mark.parametrize(
    ("keys", "missing", "present"),
    [
        ({}, ["captcha_site_key", "captcha_secret_key"], []),
        ({"captcha_site_key": "site"}, ["captcha_secret_key"], ["captcha_site_key"]),
        ({"captcha_secret_key": "secret"}, ["captcha_site_key"], ["captcha_secret_key"]),
        ({"captcha_site_key": " ", "captcha_secret_key": "secret"}, ["captcha_site_key"], []),
    ],
)
@pytest.mark.parametrize("provider", ["turnstile", "hcaptcha"])
def test_a_provider_without_both_keys_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    keys: dict[str, str],
    missing: list[str],
    present: list[str],
) -> None:
    monkeypatch.setenv("RINGFENCE_CAPTCHA_PROVIDER", provider)
    for name, value in keys.items():
        monkeypatch.setenv(f"RINGFENCE_{name.upper()}", value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    for name in missing:
        assert f"{name} (RINGFENCE_{name.upper()})" in message
    for name in present:
        assert f"{name} (" not in message


def test_the_settings_build_the_verifier_they_name() -> None:
    assert captcha_verifier(Settings()) is None  # "none" is the default
    secret = SecretStr("secret")
    turnstile = Settings(
        captcha_provider="turnstile", captcha_site_key="site", captcha_secret_key=secret
    )
    hcaptcha = Settings(
        captcha_provider="hcaptcha", captcha_site_key="site", captcha_secret_key=secret
    )
    assert isinstance(captcha_verifier(turnstile), TurnstileVerifier)
    assert isinstance(captcha_verifier(hcaptcha), HCaptchaVerifier)


# The page's `shown` token expires.


def test_a_shown_token_expires_after_a_day(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> None:
    form_id = _form(client, tenant, GOOD_TEXT)
    person = TestClient(client.app)
    stale = PERSON | {"shown": _shown(person, form_id)}
    clock.advance(SHOWN_LIFETIME - timedelta(minutes=1))
    fresh = PERSON | {"shown": _shown(person, form_id), "phone": "(212) 555-0148"}
    clock.advance(timedelta(minutes=1, seconds=1))
    replayed = person.post(f"/f/{form_id}", data=stale)
    assert (replayed.status_code, replayed.text) == (400, EXPIRED)
    assert _recorded(container) == (0, 0, 0)
    within = person.post(f"/f/{form_id}", data=fresh)  # shown under a day ago
    assert within.status_code == 200, within.text
    assert _count(container, Contact) == 1


def test_a_token_without_its_time_is_refused(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    form_id = _form(client, tenant, GOOD_TEXT)
    timeless = _signer(container).dumps([form_id, 1])  # could never expire: not accepted
    answer = client.post(f"/f/{form_id}", data=PERSON | {"shown": timeless})
    assert (answer.status_code, answer.text) == (400, EXPIRED)
    assert _recorded(container) == (0, 0, 0)
