"""The PHI access log: every read of a recording or transcript, by whom and through which door.

Written in the same transaction as nothing else: a read changes no data, so the entry is the
request's only write and is committed by the route before it answers. A read whose entry
could not be written fails rather than answering unlogged.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ringfence.adapters.db.phi import PhiAccess
from ringfence.domain.phi import PhiAccessVia, PhiKind
from ringfence.services.unit_of_work import TenantScope


def share_actor(link_id: int) -> str:
    """How a share link's anonymous holder is named in the log."""
    return f"share_link:{link_id}"


def record_access(
    session: Session,
    scope: TenantScope,
    *,
    job_id: int,
    what: PhiKind,
    via: PhiAccessVia,
    at: datetime,
) -> PhiAccess:
    entry = PhiAccess(
        account_id=scope.account_id,
        actor=scope.actor,
        job_id=job_id,
        what=what,
        via=via,
        at=at,
    )
    session.add(entry)
    return entry
