"""PCM helpers and resampling: exact lengths, streaming equals one pass, tones survive."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.speech.audio import (
    LinearResampler,
    dbfs,
    pcm_of,
    resample,
    rms,
    samples_of,
    seconds_of,
    silence,
)
from ringfence.speech.synth import tone


def _dominant_level(pcm: bytes, frequency: float, rate: int) -> float:
    """Amplitude of `frequency` in `pcm` (a single-bin DFT), relative to full scale."""
    x = samples_of(pcm)
    re = sum(v * math.cos(2 * math.pi * frequency * n / rate) for n, v in enumerate(x))
    im = sum(v * math.sin(2 * math.pi * frequency * n / rate) for n, v in enumerate(x))
    return 2 * math.hypot(re, im) / len(x) / 32_768


def test_pcm_round_trip_clips_to_16_bits() -> None:
    assert list(samples_of(pcm_of([0, 1, -1, 40_000, -40_000]))) == [0, 1, -1, 32_767, -32_768]


def test_partial_sample_is_refused() -> None:
    with pytest.raises(ValueError, match="whole 16-bit samples"):
        samples_of(b"\x00\x01\x02")


def test_levels() -> None:
    assert rms(b"") == 0.0
    assert dbfs(silence(0.02, 8_000)) == -math.inf
    assert dbfs(tone(0.5, 1_000, level_dbfs=-20)) == pytest.approx(-20, abs=0.3)
    assert seconds_of(silence(1.5, 8_000), 8_000) == 1.5


@pytest.mark.parametrize(
    ("from_rate", "to_rate"), [(8_000, 16_000), (22_050, 8_000), (16_000, 8_000)]
)
def test_resampled_length_follows_the_rate_ratio(from_rate: int, to_rate: int) -> None:
    out = resample(silence(1.0, from_rate), from_rate, to_rate)
    assert abs(len(samples_of(out)) - to_rate) <= 1


def test_upsampling_keeps_a_tone_at_its_frequency() -> None:
    narrowband = tone(0.2, 440, level_dbfs=-6)
    wideband = resample(narrowband, 8_000, 16_000)
    assert _dominant_level(wideband, 440, 16_000) == pytest.approx(
        _dominant_level(narrowband, 440, 8_000), rel=0.05
    )


def test_downsampling_attenuates_what_the_phone_band_cannot_carry() -> None:
    # 7 kHz at 22.05 kHz would fold to 1 kHz at 8 kHz; the averaging filter damps it.
    high = tone(0.2, 7_000, level_dbfs=-6, sample_rate=22_050)
    folded = resample(high, 22_050, 8_000)
    assert _dominant_level(folded, 1_000, 8_000) < 0.5 * _dominant_level(high, 7_000, 22_050)


@given(
    chunks=st.lists(st.integers(min_value=0, max_value=97), min_size=1, max_size=12),
    rates=st.sampled_from([(8_000, 16_000), (16_000, 8_000), (22_050, 8_000), (8_000, 8_000)]),
)
def test_streaming_gives_the_same_samples_as_one_pass(
    chunks: list[int], rates: tuple[int, int]
) -> None:
    signal = tone(sum(chunks) / 8_000 + 0.01, 300, sample_rate=rates[0])
    whole = resample(signal, *rates)
    streamer = LinearResampler(*rates)
    pieces, at = [], 0
    for size in chunks:
        pieces.append(streamer.process(signal[at : at + 2 * size]))
        at += 2 * size
    pieces.append(streamer.process(signal[at:]))
    assert b"".join(pieces) == whole
