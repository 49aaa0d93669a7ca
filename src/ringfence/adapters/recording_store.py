"""Where call recordings live: encrypted WAV files under the recordings directory.

The storage half of recordings, kept apart from rendering (`services/recordings.py`) and from
the live pipeline that writes them (`services/live_media.py`), which both use it: a file holds the
WAV encrypted (Fernet, with the transcripts' keys) at `<account_id>/<job_id>.wav.enc`, written
whole or not at all, and read back only through a path that cannot leave the directory. The
Fernet token is kept base64-decoded: the same bytes, a third smaller. A plain RIFF/WAVE file
from before encryption is still read until `ringfence phi rotate-key` encrypts it.
"""

from __future__ import annotations

import base64
import os
import tempfile
import wave
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import Final

from ringfence.adapters.phi_cipher import PhiCipher
from ringfence.speech.contracts import SAMPLE_WIDTH, Audio

_RIFF: Final = b"RIFF"  # how a plaintext WAV (a legacy recording) starts


class UnsafeRecordingPath(ValueError):
    """A recording path that would resolve outside the recordings directory."""


def encode_wav(audio: Audio) -> bytes:
    """A RIFF/WAVE file: 16-bit mono PCM at the audio's sample rate."""
    buffer = BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(audio.sample_rate)
        wav.writeframes(audio.pcm)
    return buffer.getvalue()


def recording_path_for(account_id: int, job_id: int) -> str:
    """Where a call's recording lives, relative to the store directory (always '/'-separated)."""
    return f"{account_id}/{job_id}.wav.enc"


def seal(cipher: PhiCipher, wav: bytes) -> bytes:
    """What is stored on disk for `wav`: its Fernet token under the newest key, as raw bytes."""
    return base64.urlsafe_b64decode(cipher.encrypt(wav))


def is_sealed(stored: bytes) -> bool:
    """Whether stored recording bytes are encrypted (not a legacy plaintext WAV)."""
    return not stored.startswith(_RIFF)


def token_of(stored: bytes) -> bytes:
    """The Fernet token of sealed recording bytes."""
    return base64.urlsafe_b64encode(stored)


def unseal(cipher: PhiCipher, stored: bytes) -> bytes:
    """The WAV of stored recording bytes; PhiDecryptError when no configured key fits."""
    if not is_sealed(stored):
        return stored  # written before encryption, until `ringfence phi rotate-key`
    return cipher.decrypt(token_of(stored))


def read_recording_bytes(
    store_dir: Path, recording_path: str, *, cipher: PhiCipher
) -> bytes | None:
    """The decrypted WAV of a stored recording; None when its path is unsafe or there is no
    file. The one way the routes read a recording (API, staff drawer, share link)."""
    try:
        path = recording_file(store_dir, recording_path)
    except UnsafeRecordingPath:
        return None
    try:
        stored = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    return unseal(cipher, stored)


def recording_file(store_dir: Path, recording_path: str) -> Path:
    """The absolute file of a stored `recording_path`, refusing any path that would leave
    `store_dir` (absolute paths, `..`, symlinks pointing out). Raises UnsafeRecordingPath.

    It does not check that the file exists: a caller serving it answers 404 when it does not.
    """
    relative = PurePosixPath(recording_path)
    if (
        not recording_path
        or "\\" in recording_path
        or "\x00" in recording_path
        or relative.is_absolute()
        or ".." in relative.parts
    ):
        raise UnsafeRecordingPath(f"unsafe recording path: {recording_path!r}")
    root = store_dir.resolve()
    resolved = root.joinpath(*relative.parts).resolve()
    if resolved == root or not resolved.is_relative_to(root):
        raise UnsafeRecordingPath(f"unsafe recording path: {recording_path!r}")
    return resolved


def write_atomically(target: Path, data: bytes) -> None:
    """`data` at `target` whole or not at all (readable by this user only, like mkstemp's)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
