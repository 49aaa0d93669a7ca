"""The PHI access log: every read of a recording or transcript, by whom and through which door.

Written in the same transaction as nothing else: a read changes no data, so the entry is the
request's only write and is committed before the answer goes out. A read whose entry could not
be written fails rather than answering unlogged. `read_recording` is the one way every door
(API, staff drawer, share link) reads a recording: find it in the reader's account, decrypt it,
log the read, commit.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallTranscript
from ringfence.adapters.db.phi import PhiAccess
from ringfence.adapters.phi_cipher import PhiCipher
from ringfence.adapters.recording_store import read_recording_bytes
from ringfence.domain.phi import PhiAccessVia, PhiKind
from ringfence.services.unit_of_work import TenantScope, UnitOfWork


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


def log_read(
    *, uow: UnitOfWork, reader: TenantScope, job_id: int, what: PhiKind, via: PhiAccessVia
) -> None:
    """Log that `reader` read call `job_id`'s `what` (shown to them in this answer); committed
    before the answer goes out."""
    record_access(uow.session, reader, job_id=job_id, what=what, via=via, at=uow.clock.now())
    uow.commit()


def read_recording(
    uow: UnitOfWork,
    reader: TenantScope,
    job_id: int,
    *,
    via: PhiAccessVia,
    store_dir: Path,
    cipher: PhiCipher,
) -> bytes | None:
    """The decrypted WAV of call `job_id` in the reader's account, its read logged and
    committed; None when the account has no such call, it has no recording (not rendered yet,
    or purged by retention) or the file is gone. Nothing is logged for a None."""
    recording_path = uow.session.scalar(
        select(CallTranscript.recording_path).where(
            CallTranscript.job_id == job_id, CallTranscript.account_id == reader.account_id
        )
    )
    if recording_path is None:
        return None
    wav = read_recording_bytes(store_dir, recording_path, cipher=cipher)
    if wav is None:
        return None
    record_access(
        uow.session, reader, job_id=job_id, what=PhiKind.RECORDING, via=via, at=uow.clock.now()
    )
    uow.commit()
    return wav
