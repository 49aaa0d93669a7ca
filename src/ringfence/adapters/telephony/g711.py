"""G.711, the telephone network's audio codecs: µ-law (North America, Japan) and A-law
(elsewhere), 8 kHz, one byte a sample, 20 ms frames of 160 bytes.

Implemented here as Sun's reference `g711.c` and CPython's late `audioop` (deprecated in 3.11,
removed in 3.13) do it: a lookup table each way, built once at import, so a whole frame
converts with one `map()`. Twilio's Media Streams speak µ-law; SIP trunks offer either
(RTP payload types 0 = PCMU and 8 = PCMA).
"""

from __future__ import annotations

from array import array
from typing import Final

SAMPLE_RATE: Final = 8_000
FRAME_MS: Final = 20
FRAME_BYTES: Final = SAMPLE_RATE * FRAME_MS // 1000  # one byte a sample
MULAW_SILENCE: Final = 0xFF  # encodes 0
ALAW_SILENCE: Final = 0xD5  # encodes 0 (well, +8: A-law has no zero)
_BIG_ENDIAN: Final = array("h", [1]).tobytes() == b"\x00\x01"

# --- µ-law ----------------------------------------------------------------------------------

_BIAS: Final = 0x84
_CLIP: Final = 8159  # 14-bit magnitude
_SEGMENT_ENDS: Final = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)


def encode_sample(sample: int) -> int:
    """One signed 16-bit sample as a µ-law byte (G.711: 14-bit magnitude, 8 segments)."""
    value = sample >> 2  # 16 -> 14 bits (arithmetic shift, as the reference code)
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, _CLIP) + (_BIAS >> 2)
    for segment, end in enumerate(_SEGMENT_ENDS):
        if value <= end:
            return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask
    return 0x7F ^ mask  # unreachable after the clip; kept as the reference has it


def decode_byte(byte: int) -> int:
    """One µ-law byte as a signed 16-bit sample."""
    inverted = ~byte & 0xFF
    magnitude = (((inverted & 0x0F) << 3) + _BIAS) << ((inverted & 0x70) >> 4)
    return _BIAS - magnitude if inverted & 0x80 else magnitude - _BIAS


# --- A-law ----------------------------------------------------------------------------------

_ALAW_SEGMENT_ENDS: Final = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def alaw_encode_sample(sample: int) -> int:
    """One signed 16-bit sample as an A-law byte (13-bit magnitude, even bits inverted)."""
    value = sample >> 3  # 16 -> 13 bits
    if value >= 0:
        mask = 0xD5  # sign bit set, even bits toggled
    else:
        mask = 0x55
        value = -value - 1
    for segment, end in enumerate(_ALAW_SEGMENT_ENDS):
        if value <= end:
            shift = 1 if segment < 2 else segment
            return ((segment << 4) | ((value >> shift) & 0x0F)) ^ mask
    return 0x7F ^ mask  # beyond the last segment: the largest magnitude


def alaw_decode_byte(byte: int) -> int:
    """One A-law byte as a signed 16-bit sample."""
    value = byte ^ 0x55
    magnitude = (value & 0x0F) << 4
    segment = (value & 0x70) >> 4
    if segment == 0:
        magnitude += 8
    elif segment == 1:
        magnitude += 0x108
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if value & 0x80 else -magnitude


# Indexed by the sample's unsigned 16-bit pattern.
def _signed(u: int) -> int:
    return u - 65_536 if u >= 32_768 else u


_MULAW_ENCODE: Final = bytes(encode_sample(_signed(u)) for u in range(65_536))
_MULAW_DECODE: Final = tuple(decode_byte(b) for b in range(256))
_ALAW_ENCODE: Final = bytes(alaw_encode_sample(_signed(u)) for u in range(65_536))
_ALAW_DECODE: Final = tuple(alaw_decode_byte(b) for b in range(256))


def _samples(pcm16: bytes) -> array[int]:
    if len(pcm16) % 2:
        raise ValueError("PCM16 audio must hold whole 16-bit samples")
    samples = array("H", pcm16)
    if _BIG_ENDIAN:
        samples.byteswap()
    return samples


def _pcm16(samples: array[int]) -> bytes:
    if _BIG_ENDIAN:
        samples.byteswap()
    return samples.tobytes()


def pcm16_to_mulaw(pcm16: bytes) -> bytes:
    """Little-endian PCM16 to µ-law, one byte a sample."""
    return bytes(map(_MULAW_ENCODE.__getitem__, _samples(pcm16)))


def mulaw_to_pcm16(mulaw: bytes) -> bytes:
    """µ-law to little-endian PCM16."""
    return _pcm16(array("h", map(_MULAW_DECODE.__getitem__, mulaw)))


def pcm16_to_alaw(pcm16: bytes) -> bytes:
    """Little-endian PCM16 to A-law, one byte a sample."""
    return bytes(map(_ALAW_ENCODE.__getitem__, _samples(pcm16)))


def alaw_to_pcm16(alaw: bytes) -> bytes:
    """A-law to little-endian PCM16."""
    return _pcm16(array("h", map(_ALAW_DECODE.__getitem__, alaw)))


def frames(encoded: bytes, *, silence: int = MULAW_SILENCE, size: int = FRAME_BYTES) -> list[bytes]:
    """G.711 audio cut into frames of `size` bytes (20 ms), the last padded with silence."""
    chunks = [encoded[i : i + size] for i in range(0, len(encoded), size)]
    if chunks and len(chunks[-1]) < size:
        chunks[-1] = chunks[-1] + bytes([silence]) * (size - len(chunks[-1]))
    return chunks
