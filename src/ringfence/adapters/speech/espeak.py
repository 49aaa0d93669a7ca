"""EspeakTts: espeak-ng, a tiny formant synthesizer (robotic, but ~2 MB and in every Linux
distro).

Runs the `espeak-ng` program (`apt-get install espeak-ng`) with `--stdout`, which writes a WAV
file (22,050 Hz, 16-bit mono) to standard output. The text goes in on standard input, so
nothing in it can be read as an option. `synthesize` speaks a whole text in one run (espeak
paces the sentences itself: the recordings); `synthesize_stream` runs it once per sentence
(live calls, at `sample_rate`, 8 kHz there).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterator
from typing import Final

from ringfence.adapters.speech.resampling import resample_speech
from ringfence.agent.text import sentences
from ringfence.speech.contracts import SAMPLE_WIDTH, Audio, AudioChunk, SpeechEngineUnavailable

__all__ = ["ESPEAK_RATE", "INSTALL_HINT", "EspeakTts", "find_espeak", "parse_wav"]

INSTALL_HINT: Final = "install espeak-ng (Debian/Ubuntu: apt-get install espeak-ng)"
DEFAULT_TIMEOUT_S: Final = 60.0
ESPEAK_RATE: Final = 22_050  # what `espeak-ng --stdout` writes


def find_espeak() -> str | None:
    """The path of the `espeak-ng` program, or None when it is not on PATH."""
    return shutil.which("espeak-ng")


class EspeakTts:
    """One espeak-ng voice: `voice` is an espeak-ng voice name (e.g. "en-us", "en-us+f3"),
    `words_per_minute` its speed (espeak's default is 175), `pitch` 0-99 (default 50),
    `sample_rate` the rate it speaks at (None: espeak's own 22,050 Hz)."""

    def __init__(
        self,
        *,
        voice: str = "en-us",
        words_per_minute: int = 165,
        pitch: int = 50,
        executable: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sample_rate: int | None = None,
    ) -> None:
        found = executable or find_espeak()
        if found is None:
            raise SpeechEngineUnavailable(f"espeak-ng was not found on PATH: {INSTALL_HINT}")
        if sample_rate is not None and sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        if not 80 <= words_per_minute <= 450:
            raise ValueError(f"words_per_minute must be 80-450, got {words_per_minute}")
        if not 0 <= pitch <= 99:
            raise ValueError(f"pitch must be 0-99, got {pitch}")
        self._executable = found
        self._voice = voice
        self._wpm = words_per_minute
        self._pitch = pitch
        self._timeout_s = timeout_s
        self._sample_rate = sample_rate or ESPEAK_RATE

    @property
    def name(self) -> str:
        return f"espeak-ng:{self._voice}"

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    def synthesize_stream(self, text: str) -> Iterator[AudioChunk]:
        for sentence in sentences(text):
            audio = self.synthesize(sentence)
            if audio.pcm:
                yield AudioChunk(audio.pcm, audio.sample_rate, sentence)

    def synthesize(self, text: str) -> Audio:
        if not text.strip():
            return Audio(b"", self._sample_rate)  # espeak-ng writes no WAV at all for it
        spoken = self._run(text)
        pcm = resample_speech(spoken.pcm, spoken.sample_rate, self._sample_rate)
        return Audio(pcm, self._sample_rate)

    def _run(self, text: str) -> Audio:
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
            raise SpeechEngineUnavailable(f"{self._executable} is gone: {INSTALL_HINT}") from exc
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
