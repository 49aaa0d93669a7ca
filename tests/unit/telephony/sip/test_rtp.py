"""RTP packets (RFC 3550 §5.1)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.adapters.telephony.sip.rtp import RtpError, RtpPacket, parse_rtp

PAYLOAD = bytes(range(160))  # one 20 ms G.711 frame


def _header(
    *,
    version: int = 2,
    padding: bool = False,
    extension: bool = False,
    csrc_count: int = 0,
    marker: bool = False,
    payload_type: int = 0,
    sequence: int = 1,
    timestamp: int = 160,
    ssrc: int = 0xDEADBEEF,
) -> bytes:
    first = version << 6 | padding << 5 | extension << 4 | csrc_count
    return struct.pack("!BBHII", first, marker << 7 | payload_type, sequence, timestamp, ssrc)


packets = st.builds(
    RtpPacket,
    payload_type=st.integers(min_value=0, max_value=127),
    sequence=st.integers(min_value=0, max_value=0xFFFF),
    timestamp=st.integers(min_value=0, max_value=0xFFFFFFFF),
    ssrc=st.integers(min_value=0, max_value=0xFFFFFFFF),
    payload=st.binary(max_size=400),
    marker=st.booleans(),
)


@settings(max_examples=100)
@given(packets)
def test_a_rendered_packet_parses_back(packet: RtpPacket) -> None:
    data = packet.render()
    assert len(data) == 12 + len(packet.payload)
    assert data[0] == 0x80  # version 2, no padding, no extension, no CSRC
    assert parse_rtp(data) == packet


def test_the_header_is_laid_out_as_rfc_3550_says() -> None:
    packet = RtpPacket(
        payload_type=8,
        sequence=0x1234,
        timestamp=0x01020304,
        ssrc=0xA0B0C0D0,
        payload=b"xy",
        marker=True,
    )
    assert packet.render() == bytes.fromhex("80 88 1234 01020304 a0b0c0d0") + b"xy"


@pytest.mark.parametrize(
    ("given_value", "wire"),
    [(0xFFFF, 0xFFFF), (0x10000, 0), (0x10001, 1), (-1, 0xFFFF)],
)
def test_the_sequence_number_wraps_at_16_bits(given_value: int, wire: int) -> None:
    packet = RtpPacket(payload_type=0, sequence=given_value, timestamp=0, ssrc=1, payload=b"")
    assert parse_rtp(packet.render()).sequence == wire


@pytest.mark.parametrize(
    ("given_value", "wire"),
    [(0xFFFFFFFF, 0xFFFFFFFF), (2**32, 0), (2**32 + 160, 160), (-160, 2**32 - 160)],
)
def test_the_timestamp_and_ssrc_wrap_at_32_bits(given_value: int, wire: int) -> None:
    packet = RtpPacket(
        payload_type=0, sequence=0, timestamp=given_value, ssrc=given_value, payload=b""
    )
    parsed = parse_rtp(packet.render())
    assert (parsed.timestamp, parsed.ssrc) == (wire, wire)


def test_the_payload_type_is_masked_to_7_bits_and_leaves_the_marker_alone() -> None:
    packet = RtpPacket(payload_type=0x80 | 8, sequence=0, timestamp=0, ssrc=0, payload=b"")
    parsed = parse_rtp(packet.render())
    assert (parsed.payload_type, parsed.marker) == (8, False)


def test_the_fields_of_a_received_packet() -> None:
    data = _header(marker=True, payload_type=0, sequence=65535, timestamp=2**32 - 1) + PAYLOAD
    assert parse_rtp(data) == RtpPacket(
        payload_type=0,
        sequence=65535,
        timestamp=2**32 - 1,
        ssrc=0xDEADBEEF,
        payload=PAYLOAD,
        marker=True,
    )


@pytest.mark.parametrize("count", [1, 2, 15])
def test_csrc_identifiers_are_not_payload(count: int) -> None:
    csrcs = b"".join(struct.pack("!I", 1000 + i) for i in range(count))
    assert parse_rtp(_header(csrc_count=count) + csrcs + PAYLOAD).payload == PAYLOAD


def test_a_header_extension_is_skipped() -> None:
    extension = struct.pack("!HH", 0xBEDE, 2) + b"\x10\xaa\x00\x00" + b"\x21\xbb\xcc\x00"
    assert parse_rtp(_header(extension=True) + extension + PAYLOAD).payload == PAYLOAD


def test_an_empty_header_extension_is_skipped() -> None:
    extension = struct.pack("!HH", 0x1000, 0)
    assert parse_rtp(_header(extension=True) + extension + b"ab").payload == b"ab"


def test_padding_is_removed_by_its_count() -> None:
    assert parse_rtp(_header(padding=True) + PAYLOAD + b"\x00\x00\x03").payload == PAYLOAD
    assert parse_rtp(_header(padding=True) + PAYLOAD + b"\x01").payload == PAYLOAD


def test_csrcs_extension_and_padding_together() -> None:
    data = (
        _header(padding=True, extension=True, csrc_count=2)
        + struct.pack("!II", 7, 8)
        + struct.pack("!HH", 0xBEDE, 1)
        + b"\x10\x01\x00\x00"
        + PAYLOAD
        + b"\x00\x00\x00\x04"
    )
    assert parse_rtp(data).payload == PAYLOAD


@pytest.mark.parametrize("version", [0, 1, 3])
def test_a_version_other_than_2_is_rejected(version: int) -> None:
    with pytest.raises(RtpError, match=f"version {version}"):
        parse_rtp(_header(version=version) + PAYLOAD)


@pytest.mark.parametrize("length", range(12))
def test_a_packet_shorter_than_the_header_is_rejected(length: int) -> None:
    with pytest.raises(RtpError, match="shorter than an RTP header"):
        parse_rtp((_header() + PAYLOAD)[:length])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(_header(csrc_count=3) + b"\x00" * 8, "truncated packet", id="csrcs"),
        pytest.param(_header(extension=True) + b"\xbe\xde", "truncated header ext", id="ext"),
        pytest.param(
            _header(extension=True) + struct.pack("!HH", 0xBEDE, 3) + b"\x00" * 8,
            "truncated packet",
            id="ext-words",
        ),
        pytest.param(_header(padding=True), "padding without payload", id="padding-alone"),
        pytest.param(_header(padding=True) + b"ab\x09", "truncated packet", id="padding-count"),
    ],
)
def test_a_truncated_packet_is_rejected(data: bytes, message: str) -> None:
    with pytest.raises(RtpError, match=message):
        parse_rtp(data)


@settings(max_examples=200)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_parse_or_raise_rtp_error(data: bytes) -> None:
    try:
        packet = parse_rtp(data)
    except RtpError:
        return
    assert 0 <= packet.payload_type <= 127
    assert len(packet.payload) <= len(data) - 12
