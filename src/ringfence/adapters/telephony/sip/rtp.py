"""RTP packets (RFC 3550 §5.1): the 12-byte header and a G.711 payload, 20 ms a packet."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

_HEADER: Final = struct.Struct("!BBHII")
VERSION: Final = 2


class RtpError(ValueError):
    """Not an RTP packet we can use."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def render(self) -> bytes:
        return (
            _HEADER.pack(
                VERSION << 6,
                (0x80 if self.marker else 0) | (self.payload_type & 0x7F),
                self.sequence & 0xFFFF,
                self.timestamp & 0xFFFFFFFF,
                self.ssrc & 0xFFFFFFFF,
            )
            + self.payload
        )


def parse_rtp(data: bytes) -> RtpPacket:
    if len(data) < _HEADER.size:
        raise RtpError("shorter than an RTP header")
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != VERSION:
        raise RtpError(f"RTP version {first >> 6}, not 2")
    offset = _HEADER.size + 4 * (first & 0x0F)  # CSRC list
    if first & 0x10:  # header extension: 16-bit profile, 16-bit length in words
        if len(data) < offset + 4:
            raise RtpError("truncated header extension")
        (words,) = struct.unpack_from("!H", data, offset + 2)
        offset += 4 + 4 * words
    end = len(data)
    if first & 0x20:  # padding: the last byte says how much
        if end <= offset:
            raise RtpError("padding without payload")
        end -= data[-1]
    if end < offset:
        raise RtpError("truncated packet")
    return RtpPacket(
        payload_type=second & 0x7F,
        sequence=sequence,
        timestamp=timestamp,
        ssrc=ssrc,
        payload=data[offset:end],
        marker=bool(second & 0x80),
    )
