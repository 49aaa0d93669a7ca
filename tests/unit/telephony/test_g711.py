"""G.711 against CPython's own C implementation (`audioop`, present until Python 3.13)."""

from __future__ import annotations

import struct
import warnings
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.adapters.telephony.g711 import (
    ALAW_SILENCE,
    MULAW_SILENCE,
    alaw_decode_byte,
    alaw_to_pcm16,
    decode_byte,
    frames,
    mulaw_to_pcm16,
    pcm16_to_alaw,
)


def _audioop() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:
            pytest.skip("audioop (the reference) was removed in Python 3.13")
    return audioop


ALL_SAMPLES = struct.pack("<65536h", *range(-32768, 32768))
ALL_BYTES = bytes(range(256))


def test_alaw_matches_the_reference_for_every_sample_and_byte() -> None:
    audioop = _audioop()
    assert pcm16_to_alaw(ALL_SAMPLES) == audioop.lin2alaw(ALL_SAMPLES, 2)
    assert alaw_to_pcm16(ALL_BYTES) == audioop.alaw2lin(ALL_BYTES, 2)


def test_mulaw_decoding_matches_the_reference_for_every_byte() -> None:
    audioop = _audioop()
    assert mulaw_to_pcm16(ALL_BYTES) == audioop.ulaw2lin(ALL_BYTES, 2)


def test_silence_bytes_decode_to_near_zero() -> None:
    assert decode_byte(MULAW_SILENCE) == 0
    assert abs(alaw_decode_byte(ALAW_SILENCE)) <= 8


@given(st.integers(min_value=-32768, max_value=32767))
def test_alaw_round_trip_stays_within_its_quantization_step(sample: int) -> None:
    decoded = struct.unpack("<h", alaw_to_pcm16(pcm16_to_alaw(struct.pack("<h", sample))))[0]
    # A-law keeps 4 mantissa bits: the error is under 1/32 of the magnitude (16 near zero).
    assert abs(decoded - sample) <= max(16, abs(sample) // 32 + 1)


def test_odd_length_pcm_is_refused() -> None:
    with pytest.raises(ValueError, match="whole 16-bit samples"):
        pcm16_to_alaw(b"\x00")


def test_frames_pad_with_the_codecs_silence() -> None:
    chunks = frames(b"\x01" * 170, silence=ALAW_SILENCE)
    assert [len(c) for c in chunks] == [160, 160]
    assert chunks[1][10:] == bytes([ALAW_SILENCE]) * 150
