"""espeak-ng: a tiny formant synthesizer (robotic, but ~2 MB and in every Linux distro).

Runs the `espeak-ng` program (`apt-get install espeak-ng`) once per utterance with
`--stdout`, which writes a WAV file (22,050 Hz, 16-bit mono) to standard output. The text goes
in on standard input, so nothing in it can be read as an option.
"""

from __future__ import annotations

import shutil
import struct
import subprocess

from ringfence.adapters.speech.base import SAMPLE_WIDTH, Audio, SpeechUnavailable

INSTALL_HINT = "install espeak-ng (Debian/Ubuntu: apt-get install espeak-ng)"
DEFAULT_TIMEOUT_S = 60.0


def find_espeak() -> str | None:
    """The path of the `espeak-ng` program, or None when it is not on PATH."""
    return shutil.which("espeak-ng")


class EspeakTextToSpeech:
    """One espeak-ng voice: `voice` is an espeak-ng voice name (e.g. "en-us", "en-us+f3"),
    `words_per_minute` its speed (espeak's default is 175), `pitch` 0-99 (default 50)."""

    def __init__(
        self,
        *,
        voice: str = "en-us",
        words_per_minute: int = 165,
        pitch: int = 50,
        executable: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        found = executable or find_espeak()
        if found is None:
            raise SpeechUnavailable(f"espeak-ng was not found on PATH: {INSTALL_HINT}")
        if not 80 <= words_per_minute <= 450:
            raise ValueError(f"words_per_minute must be 80-450, got {words_per_minute}")
        if not 0 <= pitch <= 99:
            raise ValueError(f"pitch must be 0-99, got {pitch}")
        self._executable = found
        self._voice = voice
        self._wpm = words_per_minute
        self._pitch = pitch
        self._timeout_s = timeout_s

    @property
    def name(self) -> str:
        return f"espeak-ng:{self._voice}"

    def synthesize(self, text: str) -> Audio:
        args = [
            self._executable,
            "--stdout",
            "-v",
            self._voice,
            "-s",
            str(self._wpm),
            "-p",
            str(self._pitch),
        ]
        try:
            done = subprocess.run(
                args,
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=self._timeout_s,
                check=False,
            )
        except FileNotFoundError as exc:
            raise SpeechUnavailable(f"{self._executable} is gone: {INSTALL_HINT}") from exc
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"espeak-ng took over {self._timeout_s:g} s") from exc
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip()[:200]
            raise RuntimeError(f"espeak-ng failed (exit {done.returncode}): {detail}")
        return parse_wav(done.stdout)


def parse_wav(data: bytes) -> Audio:
    """Parse a 16-bit mono PCM WAV, tolerating the placeholder sizes of a streamed one.

    espeak-ng writes to a pipe, so it cannot go back and fill in the RIFF and data chunk
    sizes: it writes 0x7FFFF000-ish placeholders. The stdlib `wave` reader trusts those, so
    this walks the chunks itself and takes the data chunk up to the end of what was written.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RuntimeError("espeak-ng did not write a WAV file")
    pos = 12
    sample_rate: int | None = None
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if chunk_id == b"fmt ":
            fmt, channels, rate, _byte_rate, _align, bits = struct.unpack_from(
                "<HHIIHH", data, body
            )
            if fmt != 1 or channels != 1 or bits != 8 * SAMPLE_WIDTH:
                raise RuntimeError(
                    f"unsupported WAV format (format {fmt}, {channels} channels, {bits} bits)"
                )
            sample_rate = rate
        elif chunk_id == b"data":
            if sample_rate is None:
                raise RuntimeError("WAV data chunk before its fmt chunk")
            pcm = data[body : min(body + size, len(data))]
            return Audio(pcm=pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH], sample_rate=sample_rate)
        pos = body + size + (size & 1)  # chunks are padded to an even length
    raise RuntimeError("WAV file has no data chunk")
