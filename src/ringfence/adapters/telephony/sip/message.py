"""SIP messages (RFC 3261 §7) as values: parse what arrives on the socket, render what we send.

Header names are matched case-insensitively and compact forms are expanded (`v` is `Via`,
`i` is `Call-ID`, ...); headers keep their order, which matters for `Via` and `Record-Route`.
A malformed datagram raises `SipParseError`: the endpoint logs it and drops it, as RFC 3261
§16.3/§18.1.2 ask of a UDP element.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final

COMPACT: Final = {
    "v": "Via",
    "f": "From",
    "t": "To",
    "i": "Call-ID",
    "m": "Contact",
    "l": "Content-Length",
    "c": "Content-Type",
    "k": "Supported",
    "s": "Subject",
    "e": "Content-Encoding",
}
# How we write the names we read (responses echo them back).
_CANONICAL: Final = {
    name.lower(): name
    for name in (
        "Via",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Contact",
        "Content-Length",
        "Content-Type",
        "Record-Route",
        "Route",
        "WWW-Authenticate",
        "Proxy-Authenticate",
        "Authorization",
        "Proxy-Authorization",
        "Max-Forwards",
        "User-Agent",
        "Allow",
        "Supported",
        "Expires",
        "Reason",
    )
}

_STATUS_LINE: Final = re.compile(r"^SIP/2\.0 (\d{3}) ?(.*)$")
_REQUEST_LINE: Final = re.compile(r"^([A-Z]+) (\S+) SIP/2\.0$")
_TAG: Final = re.compile(r";\s*tag=([^;>\s]+)", re.IGNORECASE)
_BRANCH: Final = re.compile(r";\s*branch=([^;\s]+)", re.IGNORECASE)
_URI_IN_BRACKETS: Final = re.compile(r"<([^>]+)>")


class SipParseError(ValueError):
    """Not a SIP message, or one missing what every message must have."""


def canonical(name: str) -> str:
    name = name.strip()
    name = COMPACT.get(name.lower(), name) if len(name) == 1 else name
    return _CANONICAL.get(name.lower(), name)


Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Message:
    headers: Headers = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of a header (None when absent)."""
        wanted = canonical(name).lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def headers_named(self, name: str) -> list[str]:
        """Every value of a header, in order; comma-joined values (`Via: a, b`) are split."""
        wanted = canonical(name).lower()
        values: list[str] = []
        for key, value in self.headers:
            if key.lower() == wanted:
                values.extend(split_commas(value))
        return values

    @property
    def call_id(self) -> str:
        return self.header("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        """(sequence number, method)."""
        value = self.header("CSeq") or ""
        number, _, method = value.strip().partition(" ")
        try:
            return int(number), method.strip().upper()
        except ValueError:
            return 0, method.strip().upper()

    @property
    def top_branch(self) -> str | None:
        via = self.header("Via")
        if via is None:
            return None
        match = _BRANCH.search(split_commas(via)[0])
        return match.group(1) if match else None

    def _head(self) -> str:
        raise NotImplementedError

    def render(self) -> bytes:
        """The message on the wire; Content-Length is always written, from the body."""
        lines = [self._head()]
        lines += [f"{name}: {value}" for name, value in self.headers if name != "Content-Length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


@dataclass(frozen=True, slots=True)
class SipRequest(_Message):
    method: str = ""
    uri: str = ""

    def _head(self) -> str:
        return f"{self.method} {self.uri} SIP/2.0"

    def with_headers(self, *extra: tuple[str, str]) -> SipRequest:
        return replace(self, headers=self.headers + extra)


@dataclass(frozen=True, slots=True)
class SipResponse(_Message):
    status: int = 0
    reason: str = ""

    def _head(self) -> str:
        return f"SIP/2.0 {self.status} {self.reason}"


SipMessage = SipRequest | SipResponse


def parse(data: bytes) -> SipMessage:
    """One SIP message from a datagram (raises SipParseError)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")  # tolerated (RFC 3261 §7.5 asks for CRLF)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("the head is not UTF-8") from exc
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or not lines[0].strip():
        raise SipParseError("empty message")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:  # folded continuation line
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise SipParseError(f"malformed header line {line[:60]!r}")
        headers.append((canonical(name), value.strip()))
    length_text = next((v for k, v in headers if k == "Content-Length"), None)
    if length_text is not None:
        try:
            length = int(length_text)
        except ValueError as exc:
            raise SipParseError(f"Content-Length {length_text!r} is not a number") from exc
        if length < 0:
            raise SipParseError(f"Content-Length {length_text!r} is negative")
        if length > len(body):
            raise SipParseError("the body is shorter than its Content-Length")
        body = body[:length]
    first = lines[0].strip()
    status = _STATUS_LINE.match(first)
    if status:
        message: SipMessage = SipResponse(
            headers=tuple(headers), body=body, status=int(status.group(1)), reason=status.group(2)
        )
    else:
        request = _REQUEST_LINE.match(first)
        if not request:
            raise SipParseError(f"neither a request nor a status line: {first[:60]!r}")
        message = SipRequest(
            headers=tuple(headers), body=body, method=request.group(1), uri=request.group(2)
        )
    for required in ("Via", "From", "To", "Call-ID", "CSeq"):
        if message.header(required) is None:
            raise SipParseError(f"the {required} header is missing")
    return message


def split_commas(value: str) -> list[str]:
    """A header value split at the commas that separate values (not inside <> or quotes)."""
    parts: list[str] = []
    depth, quoted, escaped, start = 0, False, False, 0
    for i, char in enumerate(value):
        if escaped:  # the character after a backslash in a quoted string (quoted-pair)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth -= 1
        elif char == "," and not quoted and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [part for part in parts if part]


def tag_of(value: str | None) -> str | None:
    """The `tag` parameter of a From or To header."""
    if value is None:
        return None
    # Parameters after the closing '>' belong to the header, not to the URI.
    tail = value[value.rfind(">") + 1 :] if ">" in value else value
    match = _TAG.search(tail)
    return match.group(1) if match else None


def uri_of(value: str) -> str:
    """The URI of a name-addr (`"Name" <sip:x@y>;tag=1` → `sip:x@y`) or an addr-spec."""
    match = _URI_IN_BRACKETS.search(value)
    if match:
        return match.group(1).strip()
    return value.split(";", 1)[0].strip()


def response_to(
    request: SipRequest,
    status: int,
    reason: str,
    *,
    to_tag: str | None = None,
    extra: Headers = (),
    body: bytes = b"",
) -> SipResponse:
    """A response to `request` (§8.2.6.2): its Via, From, Call-ID, CSeq copied, our tag on To."""
    headers: list[tuple[str, str]] = [(k, v) for k, v in request.headers if k == "Via"]
    to = request.header("To") or ""
    if to_tag is not None and tag_of(to) is None:
        to = f"{to};tag={to_tag}"
    headers += [
        ("From", request.header("From") or ""),
        ("To", to),
        ("Call-ID", request.call_id),
        ("CSeq", request.header("CSeq") or ""),
    ]
    return SipResponse(headers=tuple(headers) + extra, body=body, status=status, reason=reason)


def sipfrag_status(body: bytes) -> int | None:
    """The status code of a `message/sipfrag` body ("SIP/2.0 200 OK"), as a REFER's NOTIFY
    carries it (RFC 3515 §2.4.5); None when the body is not one."""
    first = body.split(b"\n", 1)[0].strip().split()
    if len(first) >= 2 and first[0].upper() == b"SIP/2.0" and first[1].isdigit():
        return int(first[1])
    return None
