"""Key rotation: re-encrypt every transcript and recording under the newest PHI key.

After a new key is put first (`ringfence phi rotate-key` does it for the key file; with
RINGFENCE_PHI_KEYS the operator does), `rotate_all` rewrites each stored token with
`MultiFernet.rotate` (decrypt with whichever key fits, encrypt with the newest), and encrypts
whatever is still plaintext from before encryption existed. Once `check_keys` finds nothing
that needs an older key, the older keys can be dropped.

Rows are locked (`FOR UPDATE` on PostgreSQL; SQLite has one writer at a time) while their
tokens and files are rewritten, so a concurrent purge or transcript update is never
overwritten with stale content. A token that no configured key decrypts is counted as
unreadable and left as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import JSON, func, select, type_coerce, update
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallTranscript
from ringfence.adapters.db.crypto import is_token
from ringfence.adapters.phi_cipher import PhiCipher, PhiDecryptError
from ringfence.adapters.recording_store import (
    UnsafeRecordingPath,
    is_sealed,
    recording_file,
    recording_path_for,
    seal,
    token_of,
    unseal,
    write_atomically,
)

log = logging.getLogger("ringfence.phi")

BATCH: Final = 100
_RAW_TURNS = type_coerce(CallTranscript.turns, JSON)  # the stored value, not decrypted


@dataclass(slots=True)
class RotationReport:
    transcripts: int = 0  # re-encrypted under the newest key
    recordings: int = 0
    plaintext_encrypted: int = 0  # transcripts and recordings from before encryption
    missing_recordings: int = 0  # a row names a file that is not there
    unreadable: list[str] = field(default_factory=list)  # what no configured key decrypts


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """What still needs a key other than the newest (or is still plaintext)."""

    checked: int
    stale: int
    unreadable: int

    @property
    def only_newest_needed(self) -> bool:
        return self.stale == 0 and self.unreadable == 0


Progress = Callable[[int], None]


def count_items(session_factory: Callable[[], Session]) -> int:
    """Transcripts plus recordings: the work `rotate_all` and `check_keys` have to do."""
    with session_factory() as session:
        transcripts, recordings = session.execute(
            select(func.count(CallTranscript.id), func.count(CallTranscript.recording_path))
        ).one()
    return int(transcripts) + int(recordings)


def rotate_all(
    session_factory: Callable[[], Session],
    *,
    store_dir: Path,
    cipher: PhiCipher,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> RotationReport:
    report = RotationReport()
    after_id = 0
    while True:
        with session_factory() as session, session.begin():
            rows = session.execute(
                select(
                    CallTranscript.id,
                    CallTranscript.account_id,
                    CallTranscript.job_id,
                    _RAW_TURNS,
                    CallTranscript.recording_path,
                )
                .where(CallTranscript.id > after_id)
                .order_by(CallTranscript.id)
                .limit(batch)
                .with_for_update()
            ).all()
            if not rows:
                break
            after_id = rows[-1].id
            moved: list[Path] = []
            for transcript_id, account_id, job_id, raw, recording_path in rows:
                _rotate_transcript(session, cipher, transcript_id, job_id, raw, report)
                if recording_path is not None:
                    ids = (transcript_id, account_id, job_id)
                    old = _rotate_recording(session, cipher, store_dir, ids, recording_path, report)
                    if old is not None:
                        moved.append(old)
                if progress is not None:
                    progress(1 if recording_path is None else 2)
        # The rows now name the encrypted files: the plaintext originals can go.
        for path in moved:
            path.unlink(missing_ok=True)
    return report


def _rotate_transcript(
    session: Session,
    cipher: PhiCipher,
    transcript_id: int,
    job_id: int,
    raw: Any,
    report: RotationReport,
) -> None:
    where = CallTranscript.id == transcript_id
    if raw is None:
        return
    if not is_token(raw):  # plaintext from before encryption: the column type encrypts it
        session.execute(update(CallTranscript).where(where).values(turns=raw))
        report.plaintext_encrypted += 1
        return
    try:
        token = cipher.rotate(str(raw).encode("ascii")).decode("ascii")
    except PhiDecryptError:
        report.unreadable.append(f"transcript of call job {job_id}")
        return
    session.execute(update(CallTranscript).where(where).values(turns=type_coerce(token, JSON)))
    report.transcripts += 1


def _rotate_recording(
    session: Session,
    cipher: PhiCipher,
    store_dir: Path,
    ids: tuple[int, int, int],
    recording_path: str,
    report: RotationReport,
) -> Path | None:
    """Rewrite one recording under the newest key; the plaintext file to delete, if any."""
    transcript_id, account_id, job_id = ids
    try:
        source = recording_file(store_dir, recording_path)
        stored = source.read_bytes()
    except (UnsafeRecordingPath, FileNotFoundError):
        log.warning("recording of call job %s is missing (%s)", job_id, recording_path)
        report.missing_recordings += 1
        return None
    try:
        if is_sealed(stored):
            sealed = seal(cipher, unseal(cipher, stored))
            report.recordings += 1
        else:
            sealed = seal(cipher, stored)
            report.plaintext_encrypted += 1
    except PhiDecryptError:
        report.unreadable.append(f"recording of call job {job_id}")
        return None
    target_path = recording_path_for(account_id, job_id)
    target = recording_file(store_dir, target_path)
    write_atomically(target, sealed)
    if target == source:
        return None
    session.execute(
        update(CallTranscript)
        .where(CallTranscript.id == transcript_id)
        .values(recording_path=target_path)
    )
    return source


def check_keys(
    session_factory: Callable[[], Session],
    *,
    store_dir: Path,
    cipher: PhiCipher,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> KeyCheck:
    """Whether every transcript and recording decrypts with the newest key alone."""
    checked = stale = unreadable = 0
    after_id = 0
    while True:
        with session_factory() as session:
            rows = session.execute(
                select(CallTranscript.id, _RAW_TURNS, CallTranscript.recording_path)
                .where(CallTranscript.id > after_id)
                .order_by(CallTranscript.id)
                .limit(batch)
            ).all()
        if not rows:
            break
        after_id = rows[-1].id
        for _, raw, recording_path in rows:
            # None: still plaintext (needs a rotation before the old keys may go).
            tokens = [str(raw).encode("ascii") if is_token(raw) else None]
            if recording_path is not None:
                try:
                    stored = recording_file(store_dir, recording_path).read_bytes()
                except (UnsafeRecordingPath, FileNotFoundError):
                    stored = None  # nothing left to decrypt
                if stored is not None:
                    tokens.append(token_of(stored) if is_sealed(stored) else None)
            for token in tokens:
                checked += 1
                if token is None:
                    stale += 1
                elif not cipher.is_current(token):
                    try:
                        cipher.decrypt(token)
                    except PhiDecryptError:
                        unreadable += 1
                    else:
                        stale += 1
            if progress is not None:
                progress(1 if recording_path is None else 2)
    return KeyCheck(checked=checked, stale=stale, unreadable=unreadable)
