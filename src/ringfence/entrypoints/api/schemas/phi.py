"""The PHI access log."""

from __future__ import annotations

from datetime import datetime

from ringfence.domain.phi import PhiAccessVia, PhiKind
from ringfence.entrypoints.api.schemas.common import Id, ListQuery, Out


class PhiAccessOut(Out):
    id: int
    actor: str
    job_id: int
    what: PhiKind
    via: PhiAccessVia
    at: datetime


class PhiAccessQuery(ListQuery):
    job_id: Id | None = None
    what: PhiKind | None = None
    via: PhiAccessVia | None = None
