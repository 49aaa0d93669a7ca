"""SDP (RFC 4566) for one audio stream, offer/answer (RFC 3264): what we offer in the INVITE,
and what we take from the answer (where to send RTP, in which G.711 law).

We offer PCMU and PCMA (payload types 0 and 8, 8 kHz, 20 ms) in the configured order, and
telephone-events are not offered (DTMF is not used by the agent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Codec = Literal["PCMU", "PCMA"]
PAYLOAD_TYPES: Final[dict[Codec, int]] = {"PCMU": 0, "PCMA": 8}
_CODEC_OF: Final = {pt: codec for codec, pt in PAYLOAD_TYPES.items()}


class SdpError(ValueError):
    """An answer without a usable audio stream (no address, no port, no codec we offered)."""


@dataclass(frozen=True, slots=True)
class MediaAnswer:
    host: str
    port: int
    codec: Codec
    payload_type: int


def offer(*, session_id: int, host: str, rtp_port: int, codecs: tuple[Codec, ...]) -> bytes:
    pts = [PAYLOAD_TYPES[c] for c in codecs]
    lines = [
        "v=0",
        f"o=ringfence {session_id} {session_id} IN IP4 {host}",
        "s=Ringfence call",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"m=audio {rtp_port} RTP/AVP {' '.join(str(pt) for pt in pts)}",
        *(f"a=rtpmap:{PAYLOAD_TYPES[c]} {c}/8000" for c in codecs),
        "a=ptime:20",
        "a=sendrecv",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def parse_answer(body: bytes, offered: tuple[Codec, ...]) -> MediaAnswer:
    """The first audio stream of an SDP answer, in the first of its codecs that we offered."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SdpError("the SDP is not UTF-8") from exc
    session_host: str | None = None
    media_host: str | None = None
    port: int | None = None
    formats: list[int] = []
    in_audio = in_media = False
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            if port is not None:
                break  # only the first audio stream is used
            fields = value.split()
            in_media = True  # a c= line from here on belongs to a stream, not the session
            in_audio = len(fields) >= 4 and fields[0] == "audio"
            if in_audio:
                try:
                    port = int(fields[1])
                    formats = [int(f) for f in fields[3:] if f.isdigit()]
                except ValueError as exc:
                    raise SdpError(f"malformed media line {line!r}") from exc
        elif kind == "c":
            fields = value.split()
            if len(fields) >= 3 and fields[1] == "IP4":
                if not in_media:
                    session_host = fields[2].split("/")[0]
                elif in_audio:
                    media_host = fields[2].split("/")[0]
    if port is None:
        raise SdpError("the answer has no audio stream")
    if port == 0:
        raise SdpError("the answer rejected the audio stream (port 0)")
    host = media_host or session_host
    if host is None:
        raise SdpError("the answer has no connection address")
    for pt in formats:
        codec = _CODEC_OF.get(pt)
        if codec is not None and codec in offered:
            return MediaAnswer(host=host, port=port, codec=codec, payload_type=pt)
    raise SdpError(f"no offered codec in the answer (payload types {formats})")
