"""SDP offer/answer for one G.711 audio stream (RFC 4566, RFC 3264)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.adapters.telephony.sip.sdp import (
    PAYLOAD_TYPES,
    Codec,
    MediaAnswer,
    SdpError,
    offer,
    parse_answer,
)

BOTH: tuple[Codec, ...] = ("PCMU", "PCMA")


def _sdp(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def _answer(*media: str, session_c: str | None = "c=IN IP4 198.51.100.7") -> bytes:
    head = ["v=0", "o=- 8 8 IN IP4 198.51.100.7", "s=-"]
    if session_c is not None:
        head.append(session_c)
    return _sdp(*head, "t=0 0", *media)


# --- the offer -------------------------------------------------------------------------


def test_the_offer_lists_the_codecs_in_order_with_their_rtpmaps() -> None:
    sdp = offer(session_id=1234, host="203.0.113.10", rtp_port=40000, codecs=("PCMA", "PCMU"))
    assert sdp.endswith(b"\r\n")
    lines = sdp.decode("ascii").split("\r\n")[:-1]
    assert lines[0] == "v=0"
    assert "o=ringfence 1234 1234 IN IP4 203.0.113.10" in lines
    assert "c=IN IP4 203.0.113.10" in lines
    assert "t=0 0" in lines
    media = lines.index("m=audio 40000 RTP/AVP 8 0")
    assert lines[media + 1 : media + 3] == ["a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000"]
    assert "a=ptime:20" in lines
    assert "a=sendrecv" in lines
    assert all(len(line) > 2 and line[1] == "=" for line in lines)


def test_an_offer_of_one_codec_has_one_payload_type() -> None:
    sdp = offer(session_id=1, host="192.0.2.1", rtp_port=10000, codecs=("PCMU",)).decode()
    assert "m=audio 10000 RTP/AVP 0\r\n" in sdp
    assert "a=rtpmap:0 PCMU/8000" in sdp
    assert "PCMA" not in sdp


@settings(max_examples=50)
@given(
    port=st.integers(min_value=1, max_value=65535),
    session_id=st.integers(min_value=0, max_value=2**62),
    codecs=st.sampled_from(
        [p for n in (1, 2) for p in itertools.permutations(("PCMU", "PCMA"), n)]
    ),
)
def test_our_own_offer_reads_back_as_an_answer(
    port: int, session_id: int, codecs: tuple[Codec, ...]
) -> None:
    sdp = offer(session_id=session_id, host="203.0.113.10", rtp_port=port, codecs=codecs)
    assert parse_answer(sdp, codecs) == MediaAnswer(
        host="203.0.113.10", port=port, codec=codecs[0], payload_type=PAYLOAD_TYPES[codecs[0]]
    )


# --- the answer ------------------------------------------------------------------------


def test_the_media_level_address_wins_over_the_session_level_one() -> None:
    answer = _answer("m=audio 31000 RTP/AVP 0", "c=IN IP4 198.51.100.99", "a=sendrecv")
    assert parse_answer(answer, BOTH) == MediaAnswer(
        host="198.51.100.99", port=31000, codec="PCMU", payload_type=0
    )


def test_the_session_level_address_is_used_without_a_media_level_one() -> None:
    answer = _answer("m=audio 31000 RTP/AVP 8", "a=rtpmap:8 PCMA/8000")
    assert parse_answer(answer, BOTH).host == "198.51.100.7"


def test_a_media_level_address_alone_is_enough() -> None:
    answer = _answer("m=audio 31000 RTP/AVP 0", "c=IN IP4 192.0.2.50/127", session_c=None)
    assert parse_answer(answer, BOTH).host == "192.0.2.50"


@pytest.mark.parametrize(
    ("formats", "offered", "codec"),
    [
        ("8 0 101", ("PCMU", "PCMA"), "PCMA"),
        ("0 8", ("PCMA", "PCMU"), "PCMU"),
        ("101 18 8", ("PCMU", "PCMA"), "PCMA"),
        ("0 8", ("PCMA",), "PCMA"),
    ],
)
def test_the_codec_is_the_answer_s_first_that_we_offered(
    formats: str, offered: tuple[Codec, ...], codec: Codec
) -> None:
    answer = _answer(f"m=audio 31000 RTP/AVP {formats}")
    chosen = parse_answer(answer, offered)
    assert (chosen.codec, chosen.payload_type) == (codec, PAYLOAD_TYPES[codec])


def test_only_the_first_audio_stream_counts() -> None:
    answer = _answer(
        "m=video 0 RTP/AVP 31",
        "m=audio 31000 RTP/AVP 0",
        "m=audio 32000 RTP/AVP 8",
        "c=IN IP4 192.0.2.99",
    )
    assert parse_answer(answer, BOTH) == MediaAnswer(
        host="198.51.100.7", port=31000, codec="PCMU", payload_type=0
    )


def test_a_non_audio_stream_s_address_is_not_the_session_s() -> None:
    answer = _answer("m=video 0 RTP/AVP 31", "c=IN IP4 192.0.2.99", "m=audio 31000 RTP/AVP 0")
    assert parse_answer(answer, BOTH).host == "198.51.100.7"


def test_bare_lf_line_endings_are_read() -> None:
    answer = _answer("m=audio 31000 RTP/AVP 0").replace(b"\r\n", b"\n")
    assert parse_answer(answer, BOTH).port == 31000


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        pytest.param(_answer("m=audio 0 RTP/AVP 0"), "port 0", id="port-0"),
        pytest.param(_answer("m=video 5000 RTP/AVP 31"), "no audio stream", id="video-only"),
        pytest.param(_answer(), "no audio stream", id="no-media"),
        pytest.param(b"", "no audio stream", id="empty"),
        pytest.param(_answer("m=audio 5000 RTP/AVP 18 101"), "no offered codec", id="no-codec"),
        pytest.param(_answer("m=audio 5000 RTP/AVP"), "no audio stream", id="no-formats"),
        pytest.param(
            _answer("m=audio 5000 RTP/AVP 0", session_c=None), "no connection address", id="no-c"
        ),
        pytest.param(
            _answer("m=audio 5000 RTP/AVP 0", session_c="c=IN IP6 2001:db8::1"),
            "no connection address",
            id="ipv6-only",
        ),
        pytest.param(_answer("m=audio port RTP/AVP 0"), "malformed media line", id="bad-port"),
        pytest.param(b"\xff\xfe", "not UTF-8", id="not-utf8"),
    ],
)
def test_an_unusable_answer_raises(answer: bytes, message: str) -> None:
    with pytest.raises(SdpError, match=message):
        parse_answer(answer, BOTH)


def test_a_codec_we_did_not_offer_is_not_chosen() -> None:
    with pytest.raises(SdpError, match="no offered codec"):
        parse_answer(_answer("m=audio 5000 RTP/AVP 8"), ("PCMU",))
