"""Contact-import files kept between the steps of the staff page (upload, columns, report).

Why files on the server and not the file re-posted in a signed hidden field: an upload may be
close to the request size limit, and re-posting it (base64 in a form) would then be refused on
the way back; it would also carry patients' names and numbers through the browser three times.
So the browser holds only a random token, and the text lives in one file under the data
directory (next to the secret key file), created owner-only (0600 in a 0700 folder) like every
other file holding PHI (`ringfence.file_modes`).

The file is named by a hash of the account id and the token: another account presenting the
token finds no file (it reads as missing), and no usable token is ever written to disk. An
upload expires an hour after it was made (on the injected clock); expired ones are deleted
whenever a new one is saved. A migration (a table) would be heavy for what lives an hour.

A run's progress (`import_progress`) is a second small file beside the upload, under the same
name: the run rewrites it a few times a second, and rewriting the upload (all its rows) that
often would be wasteful. Starting a run and writing its progress take a lock file of the
upload's (`flock`, which every web process on the host shares), so two clicks on "Import"
start one run, and a run that was taken over stops writing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from pydantic import TypeAdapter, ValidationError

from ringfence.clock import Clock
from ringfence.services.contact_import_report import ImportReport
from ringfence.services.import_progress import ImportProgress

UPLOAD_TTL: Final = timedelta(hours=1)
_TOKEN: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
_SUFFIX: Final = ".upload.json"
_PROGRESS: Final = ".progress.json"
_LOCK: Final = ".lock"


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded CSV and what was done with it so far.

    `mapping` is the `{header: field}` the last run used; `report` its result; `imported` is
    set once an import was committed, so the same file is not imported twice by a re-post.
    """

    token: str
    account_id: int
    location_id: int
    filename: str
    uploaded_at: datetime
    csv_text: str
    mapping: dict[str, str] | None = None
    report: ImportReport | None = None
    imported: bool = False


_ADAPTER: Final = TypeAdapter(Upload)
_PROGRESS_ADAPTER: Final = TypeAdapter(ImportProgress)


class UploadStore:
    def __init__(self, directory: Path, clock: Clock, *, ttl: timedelta = UPLOAD_TTL) -> None:
        self._directory = directory
        self._clock = clock
        self._ttl = ttl

    def save_new(
        self, *, account_id: int, location_id: int, filename: str, csv_text: str
    ) -> Upload:
        """Keep a new upload of `account_id`'s; its token is the only way back to it."""
        self._sweep()
        upload = Upload(
            token=secrets.token_urlsafe(32),
            account_id=account_id,
            location_id=location_id,
            filename=filename,
            uploaded_at=self._clock.now(),
            csv_text=csv_text,
        )
        self._write(upload)
        return upload

    def get(self, *, account_id: int, token: str) -> Upload | None:
        """The account's upload with `token`; None when unknown, another account's, or
        expired (all alike to the caller)."""
        if not _TOKEN.match(token):
            return None
        path = self._path(account_id, token)
        try:
            upload = _ADAPTER.validate_json(path.read_bytes())
        except (OSError, ValidationError):
            return None
        if upload.account_id != account_id or upload.token != token or self._expired(upload):
            return None
        return upload

    def record_run(
        self, upload: Upload, *, mapping: dict[str, str], report: ImportReport
    ) -> Upload:
        """Remember the columns and the report of a run (a committed one marks it imported)."""
        updated = replace(
            upload,
            mapping=mapping,
            report=report,
            imported=upload.imported or not report.dry_run,
        )
        self._write(updated)
        return updated

    def progress(self, upload: Upload) -> ImportProgress | None:
        """The upload's latest run (running, finished or failed); None before its first."""
        try:
            data = self._path(upload.account_id, upload.token, _PROGRESS).read_bytes()
            return _PROGRESS_ADAPTER.validate_json(data)
        except (OSError, ValidationError):
            return None

    def start_run(
        self, upload: Upload, *, dry_run: bool, total: int, mapping: Mapping[str, str]
    ) -> ImportProgress | None:
        """Record a new run of `upload` as started, unless one is running (not stale) or the
        file was imported meanwhile: then None, and nothing is to be started."""
        now = self._clock.now()
        with self._locked(upload):
            current = self.progress(upload)
            if current is not None and current.running(now):
                return None
            latest = self.get(account_id=upload.account_id, token=upload.token)
            if latest is None or latest.imported:
                return None
            started = ImportProgress(
                run_id=secrets.token_hex(8),
                dry_run=dry_run,
                mapping=dict(mapping),
                started_at=now,
                updated_at=now,
                total=total,
            )
            self._write_progress(upload, started)
        return started

    def save_progress(self, upload: Upload, progress: ImportProgress) -> bool:
        """Write a run's progress; False (and nothing written) when another run started since."""
        with self._locked(upload):
            current = self.progress(upload)
            if current is not None and current.run_id != progress.run_id:
                return False
            self._write_progress(upload, progress)
        return True

    @contextmanager
    def _locked(self, upload: Upload) -> Iterator[None]:
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self._path(upload.account_id, upload.token, _LOCK)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # which releases the lock

    def _write_progress(self, upload: Upload, progress: ImportProgress) -> None:
        path = self._path(upload.account_id, upload.token, _PROGRESS)
        self._replace(path, _PROGRESS_ADAPTER.dump_json(progress))

    def _path(self, account_id: int, token: str, suffix: str = _SUFFIX) -> Path:
        digest = hashlib.sha256(f"{account_id}:{token}".encode()).hexdigest()
        return self._directory / f"{digest}{suffix}"

    def _expired(self, upload: Upload) -> bool:
        return self._clock.now() - upload.uploaded_at >= self._ttl

    def _write(self, upload: Upload) -> None:
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._replace(self._path(upload.account_id, upload.token), _ADAPTER.dump_json(upload))

    @staticmethod
    def _replace(path: Path, data: bytes) -> None:
        temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
        # Created 0600 whatever the umask, then renamed over the old one: a reader never sees
        # half a file.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)

    def _sweep(self) -> None:
        """Delete expired uploads (by their stored time; the file's mtime is not our clock)."""
        if not self._directory.is_dir():
            return
        for path in self._directory.glob(f"*{_SUFFIX}"):
            try:
                upload = _ADAPTER.validate_json(path.read_bytes())
            except (OSError, ValidationError):
                continue
            if self._expired(upload):
                stem = path.name.removesuffix(_SUFFIX)
                for suffix in (_PROGRESS, _LOCK, _SUFFIX):
                    path.with_name(f"{stem}{suffix}").unlink(missing_ok=True)
