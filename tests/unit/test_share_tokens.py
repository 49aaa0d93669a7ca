"""Dashboard share tokens: signed for one purpose, naming a link and what it grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

from ringfence.adapters.db.dashboard import DashboardShareLink
from ringfence.services.dashboard.share_links import (
    TOKEN_SALT,
    ShareLinkRefused,
    ShareRefusal,
    read_token,
    share_url_path,
    sign_token,
)

SECRET = "unit-secret-" + "k" * 30
CREATED = datetime(2026, 11, 26, 15, 0, 0, 123456, tzinfo=UTC)


def _link(**changes: object) -> DashboardShareLink:
    fields: dict[str, object] = {
        "id": 42,
        "account_id": 1,
        "location_id": 2,
        "label": "Q4",
        "filters": "range=30d&status=connected",
        "include_phi": False,
        "created_by": "staff:alice",
        "created_at": CREATED,
        "expires_at": CREATED + timedelta(days=7),
    }
    return DashboardShareLink(**(fields | changes))


def _fingerprint(link: DashboardShareLink) -> str:
    named = read_token(SECRET, sign_token(SECRET, link))
    assert named is not None
    return named[1]


def test_a_token_reads_back_as_its_link_id() -> None:
    token = sign_token(SECRET, _link())
    named = read_token(SECRET, token)
    assert named is not None
    assert named[0] == 42
    assert share_url_path(token) == f"/share/dashboard/{token}"
    assert len(token) < 100
    assert "range" not in token  # the filters stay in the row


@dataclass(frozen=True)
class Foreign:
    name: str
    token: str


def _foreign_tokens() -> list[Foreign]:
    return [
        Foreign("another secret", sign_token("another-" + SECRET, _link())),
        Foreign(
            "a session cookie", URLSafeSerializer(SECRET, salt="ringfence.session").dumps([42, "x"])
        ),
        Foreign("a timed value", URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT).dumps([42, "x"])),
        Foreign("the wrong shape", URLSafeSerializer(SECRET, salt=TOKEN_SALT).dumps({"id": 42})),
        Foreign("an id as text", URLSafeSerializer(SECRET, salt=TOKEN_SALT).dumps(["42", "x"])),
        Foreign("empty", ""),
        Foreign("garbage", "not.a.token"),
        Foreign("far too long", sign_token(SECRET, _link()) + "A" * 200),
    ]


@pytest.mark.parametrize("foreign", _foreign_tokens(), ids=lambda foreign: foreign.name)
def test_tokens_we_did_not_sign_for_sharing_name_nothing(foreign: Foreign) -> None:
    assert read_token(SECRET, foreign.token) is None


@pytest.mark.parametrize(
    "change",
    [
        {"account_id": 9},
        {"location_id": 9},
        {"filters": "range=30d"},
        {"include_phi": True},
        {"created_at": CREATED + timedelta(microseconds=1)},
    ],
)
def test_the_fingerprint_covers_what_a_link_grants(change: dict[str, object]) -> None:
    assert _fingerprint(_link(**change)) != _fingerprint(_link())


def test_the_label_and_expiry_can_change_without_reissuing_the_token() -> None:
    renamed = _link(label="Renamed", expires_at=CREATED + timedelta(hours=1))
    assert _fingerprint(renamed) == _fingerprint(_link())


def test_the_fingerprint_ignores_how_the_creation_instant_is_zoned() -> None:
    eastern = CREATED.astimezone(ZoneInfo("America/New_York"))
    assert _fingerprint(_link(created_at=eastern)) == _fingerprint(_link())


def test_each_refusal_has_a_stable_code_and_a_sentence() -> None:
    assert [reason.value for reason in ShareRefusal] == ["invalid", "expired", "revoked", "missing"]
    refused = ShareLinkRefused(ShareRefusal.EXPIRED)
    assert refused.reason == "expired"
    assert str(refused) == "This share link has expired."
