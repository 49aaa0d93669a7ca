"""Twilio fixtures: settings with a token and a public URL, the fake REST API, signed requests."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator, Mapping
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from ringfence.adapters.telephony.base import DialRequest
from ringfence.adapters.telephony.twilio import TwilioCarrier, TwilioOptions
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.entrypoints.asgi import create_app
from tests.integration.telephony.fake_twilio import FakeTwilio

TOKEN = "0123456789abcdef0123456789abcdef"
BASE = "https://ringfence.example"
CALLER_ID = "+16465550198"


@pytest.fixture
def twilio_container(container: Container) -> Container:
    container.settings.twilio_account_sid = "AC" + "0" * 32
    container.settings.twilio_auth_token = SecretStr(TOKEN)
    container.settings.public_base_url = BASE
    # The app would otherwise load Whisper and Piper in a background thread (the warm-up); a
    # process exiting while that thread is inside the engines' native code aborts.
    container.settings.speech_engines = "fake"
    return container


@pytest.fixture
def fake(clock: VirtualClock) -> FakeTwilio:
    return FakeTwilio(clock)


@pytest.fixture
def carrier(twilio_container: Container, fake: FakeTwilio, clock: VirtualClock) -> TwilioCarrier:
    return TwilioCarrier(
        fake, twilio_container.session_factory, clock, TwilioOptions(public_base_url=BASE)
    )


@pytest.fixture
def twilio_client(twilio_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(twilio_container), base_url=BASE) as client:
        yield client


def dial_request(to_e164: str, key: str, *, from_e164: str = CALLER_ID) -> DialRequest:
    return DialRequest(
        idempotency_key=key, to_e164=to_e164, from_e164=from_e164, job_id=1, contact_id=7
    )


def signature(url: str, params: Mapping[str, str], *, token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, dict(params)))


def post_signed(
    client: TestClient, path: str, params: Mapping[str, str], *, token: str = TOKEN
) -> int:
    """POST `params` as Twilio does (form-encoded, signed over BASE + path); the status code."""
    headers = {"X-Twilio-Signature": signature(BASE + path, params, token=token)}
    return client.post(path, data=dict(params), headers=headers).status_code


def rfc2822(at: datetime) -> str:
    return email.utils.format_datetime(at, usegmt=True)
