"""API keys as the API shows them (never the key itself, except once, when it is made) and the
staff browser sessions signed in with them."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ringfence.entrypoints.api.schemas.common import Body, Label100, Out


class ApiKeyCreate(Body):
    name: Label100 = Field(min_length=1, description="A label to recognise the key by")
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Unset: the key lives until it is revoked"
    )


class ApiKeyOut(Out):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it in a list")
    created_at: datetime
    last_used_at: datetime | None = Field(description="Updated at most once a minute")
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    api_key: str = Field(description="The key itself: shown this once, stored only as a hash")


class WebSessionOut(Out):
    session_id: int
    key_name: str = Field(description="The API key the browser signed in with")
    key_prefix: str
    user_agent: str = Field(description="The browser's own description (first 200 characters)")
    created_at: datetime
    last_seen_at: datetime = Field(description="Updated at most once a minute")
    expires_at: datetime


class WebSessionsEnded(Out):
    ended: int = Field(description="How many sessions were open and are now ended")
