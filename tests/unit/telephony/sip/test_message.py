"""SIP message parsing and rendering (RFC 3261 §7), against the §24.2 session setup example."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.adapters.telephony.sip.message import (
    SipParseError,
    SipRequest,
    SipResponse,
    parse,
    response_to,
    split_commas,
    tag_of,
    uri_of,
)

ALICE_SDP = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.com\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.101\r\n"
    b"t=0 0\r\n"
    b"m=audio 49172 RTP/AVP 0 8\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
)

# RFC 3261 §24.2 (F1, as the proxy forwards it: two Vias), with a real SDP body.
INVITE = (
    b"INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1\r\n"
    b"Max-Forwards: 69\r\n"
    b"To: Bob <sip:bob@biloxi.com>\r\n"
    b"From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.com>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: " + str(len(ALICE_SDP)).encode() + b"\r\n"
    b"\r\n" + ALICE_SDP
)

RINGING = (
    b"SIP/2.0 180 Ringing\r\n"
    b"Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1"
    b";received=192.0.2.2\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1\r\n"
    b"To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n"
    b"From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\n"
    b"Contact: <sip:bob@192.0.2.4>\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)

TRUNK_SDP = (
    b"v=0\r\n"
    b"o=- 1 1 IN IP4 198.51.100.7\r\n"
    b"s=-\r\n"
    b"c=IN IP4 198.51.100.7\r\n"
    b"t=0 0\r\n"
    b"m=audio 31000 RTP/AVP 8 101\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
)

# A trunk's 200 OK: Record-Route (comma-joined and repeated), compact headers, SDP answer.
OK = (
    b"SIP/2.0 200 OK\r\n"
    b"v: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;rport=5060\r\n"
    b"Record-Route: <sip:edge1.trunk.example;lr>, <sip:edge2.trunk.example;lr>\r\n"
    b"Record-Route: <sip:core.trunk.example;lr;ftag=1928301774>\r\n"
    b"f: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    b"t: <sip:bob@biloxi.com>;tag=as5f1c2e3d\r\n"
    b"i: a84b4c76e66710\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"m: <sip:bob@198.51.100.7:5060;transport=udp>\r\n"
    b"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE\r\n"
    b"c: application/sdp\r\n"
    b"l: " + str(len(TRUNK_SDP)).encode() + b"\r\n"
    b"\r\n" + TRUNK_SDP
)


def _request(data: bytes = INVITE) -> SipRequest:
    message = parse(data)
    assert isinstance(message, SipRequest)
    return message


def _response(data: bytes) -> SipResponse:
    message = parse(data)
    assert isinstance(message, SipResponse)
    return message


def _without(data: bytes, name: bytes) -> bytes:
    return b"".join(
        line for line in data.splitlines(keepends=True) if not line.startswith(name + b":")
    )


# --- the fixtures, parsed --------------------------------------------------------------


def test_an_invite_parses_to_its_request_line_headers_and_body() -> None:
    invite = _request()
    assert invite.method == "INVITE"
    assert invite.uri == "sip:bob@biloxi.com"
    assert [name for name, _ in invite.headers] == [
        "Via",
        "Via",
        "Max-Forwards",
        "To",
        "From",
        "Call-ID",
        "CSeq",
        "Contact",
        "Content-Type",
        "Content-Length",
    ]
    assert invite.headers_named("Via") == [
        "SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1",
        "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1",
    ]
    assert invite.call_id == "a84b4c76e66710"
    assert invite.cseq == (314159, "INVITE")
    assert invite.top_branch == "z9hG4bK77ef4c2312983.1"
    assert invite.header("Max-Forwards") == "69"
    assert invite.body == ALICE_SDP


def test_a_ringing_response_parses_to_its_status_line_and_to_tag() -> None:
    ringing = _response(RINGING)
    assert (ringing.status, ringing.reason) == (180, "Ringing")
    assert len(ringing.headers_named("Via")) == 2
    assert tag_of(ringing.header("To")) == "a6c85cf"
    assert tag_of(ringing.header("From")) == "1928301774"
    assert ringing.cseq == (314159, "INVITE")
    assert ringing.body == b""


def test_a_trunk_200_with_compact_headers_parses_in_full() -> None:
    ok = _response(OK)
    assert (ok.status, ok.reason) == (200, "OK")
    assert [name for name, _ in ok.headers] == [
        "Via",
        "Record-Route",
        "Record-Route",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Contact",
        "Allow",
        "Content-Type",
        "Content-Length",
    ]
    assert ok.call_id == "a84b4c76e66710"
    assert tag_of(ok.header("To")) == "as5f1c2e3d"
    assert uri_of(ok.header("Contact") or "") == "sip:bob@198.51.100.7:5060;transport=udp"
    assert ok.headers_named("Record-Route") == [
        "<sip:edge1.trunk.example;lr>",
        "<sip:edge2.trunk.example;lr>",
        "<sip:core.trunk.example;lr;ftag=1928301774>",
    ]
    assert ok.header("Content-Type") == "application/sdp"
    assert ok.body == TRUNK_SDP


@pytest.mark.parametrize("data", [INVITE, RINGING, OK])
def test_parsing_what_was_rendered_gives_the_same_message(data: bytes) -> None:
    message = parse(data)
    assert parse(message.render()) == message


def test_header_lookup_is_case_insensitive_and_knows_compact_names() -> None:
    invite = _request()
    assert invite.header("call-id") == invite.header("CALL-ID") == invite.header("i")
    assert invite.header("v") == invite.header("Via")
    assert invite.header("cseq") == "314159 INVITE"
    assert invite.header("Subject") is None
    assert invite.headers_named("Route") == []


# --- round trips -----------------------------------------------------------------------

_VALUE_CHARS = st.characters(blacklist_categories=("Cc", "Cs"))
_values = st.text(_VALUE_CHARS, max_size=40).filter(lambda v: v == v.strip())
_TOKEN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"
_names = st.text(_TOKEN, min_size=1, max_size=12).map(lambda name: f"X-{name}")
_extra_headers = st.lists(st.tuples(_names, _values), max_size=5)
_BASE: tuple[tuple[str, str], ...] = (
    ("Via", "SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bKrf1;rport"),
    ("From", '"Ringfence" <sip:+15550100@trunk.example>;tag=rf-1'),
    ("To", "<sip:+15550123@trunk.example>"),
    ("Call-ID", "c0ffee@203.0.113.10"),
    ("CSeq", "7 INVITE"),
)


@settings(max_examples=40)
@given(
    method=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=10),
    uri=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1).map(
        lambda rest: f"sip:{rest}"
    ),
    extra=_extra_headers,
    body=st.binary(max_size=200),
)
def test_a_rendered_request_parses_back(
    method: str, uri: str, extra: list[tuple[str, str]], body: bytes
) -> None:
    request = SipRequest(headers=(*_BASE, *extra), body=body, method=method, uri=uri)
    parsed = parse(request.render())
    assert isinstance(parsed, SipRequest)
    assert (parsed.method, parsed.uri, parsed.body) == (method, uri, body)
    assert parsed.headers == (*_BASE, *extra, ("Content-Length", str(len(body))))


@settings(max_examples=40)
@given(
    status=st.integers(min_value=100, max_value=699),
    reason=st.text(_VALUE_CHARS, max_size=30).filter(lambda r: r == r.strip()),
    extra=_extra_headers,
    body=st.binary(max_size=200),
)
def test_a_rendered_response_parses_back(
    status: int, reason: str, extra: list[tuple[str, str]], body: bytes
) -> None:
    response = SipResponse(headers=(*_BASE, *extra), body=body, status=status, reason=reason)
    parsed = parse(response.render())
    assert isinstance(parsed, SipResponse)
    assert (parsed.status, parsed.reason, parsed.body) == (status, reason, body)
    assert parsed.headers == (*_BASE, *extra, ("Content-Length", str(len(body))))


@settings(max_examples=40)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_sip_parse_error(data: bytes) -> None:
    with contextlib.suppress(SipParseError):
        parse(data)


@settings(max_examples=40)
@given(
    st.lists(
        st.sampled_from(
            [
                b"INVITE sip:a@b SIP/2.0",
                b"SIP/2.0 200 OK",
                b"Via: SIP/2.0/UDP h;branch=z9hG4bK1",
                b"f: <sip:a@b>;tag=1",
                b"t: <sip:c@d>",
                b"i: x@y",
                b"CSeq: 1 INVITE",
                b"l: 3",
                b"Content-Length: -1",
                b"Content-Length: x",
                b" folded",
                b"no colon",
                b"",
                b"\xff",
            ]
        ),
        max_size=10,
    ),
    st.binary(max_size=10),
)
def test_sip_like_lines_parse_or_raise_sip_parse_error(lines: list[bytes], body: bytes) -> None:
    with contextlib.suppress(SipParseError):
        parse(b"\r\n".join(lines) + b"\r\n\r\n" + body)


def test_render_writes_content_length_from_the_body_not_a_stale_header() -> None:
    request = SipRequest(
        headers=(*_BASE, ("Content-Length", "999")), body=b"abc", method="INFO", uri="sip:x@y"
    )
    rendered = request.render()
    assert rendered.count(b"Content-Length") == 1
    assert rendered.endswith(b"\r\nContent-Length: 3\r\n\r\nabc")
    assert rendered.startswith(b"INFO sip:x@y SIP/2.0\r\nVia: ")


def test_with_headers_appends_in_order() -> None:
    request = _request().with_headers(("Route", "<sip:a;lr>"), ("Route", "<sip:b;lr>"))
    assert request.headers[-2:] == (("Route", "<sip:a;lr>"), ("Route", "<sip:b;lr>"))
    assert request.headers_named("Route") == ["<sip:a;lr>", "<sip:b;lr>"]


# --- header forms ----------------------------------------------------------------------

COMPACT = (
    b"SIP/2.0 200 OK\r\n"
    b"v: SIP/2.0/UDP 203.0.113.10;branch=z9hG4bKc1\r\n"
    b"f: <sip:a@example.com>;tag=1\r\n"
    b"t: <sip:b@example.com>;tag=2\r\n"
    b"i: compact@example.com\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"m: <sip:b@198.51.100.1>\r\n"
    b"c: application/sdp\r\n"
    b"l: 4\r\n"
    b"\r\n"
    b"v=0\r\nignored"
)


def test_compact_header_names_are_expanded() -> None:
    message = parse(COMPACT)
    assert [name for name, _ in message.headers] == [
        "Via",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Contact",
        "Content-Type",
        "Content-Length",
    ]
    assert message.call_id == "compact@example.com"
    assert message.top_branch == "z9hG4bKc1"
    assert message.body == b"v=0\r"  # `l` is Content-Length: it cuts the body


def test_header_names_are_case_insensitive_compact_forms_included() -> None:
    # RFC 3261 §7.3.1: field names are case-insensitive, so `I` is Call-ID as `i` is.
    message = parse(
        b"BYE sip:a@b SIP/2.0\r\n"
        b"V: SIP/2.0/UDP h;branch=z9hG4bK9\r\n"
        b"F: <sip:a@b>;tag=1\r\n"
        b"T: <sip:c@d>;tag=2\r\n"
        b"I: upper@example.com\r\n"
        b"cseq: 2 BYE\r\n"
        b"CALL-id: ignored-second\r\n"
        b"L: 0\r\n"
        b"\r\n"
    )
    assert [name for name, _ in message.headers] == [
        "Via",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Call-ID",
        "Content-Length",
    ]
    assert message.call_id == "upper@example.com"
    assert message.cseq == (2, "BYE")


def test_folded_header_lines_are_joined_with_one_space() -> None:
    message = parse(
        b"OPTIONS sip:a@b SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP first.example;branch=z9hG4bKf1,\r\n"
        b"\t SIP/2.0/UDP second.example;branch=z9hG4bKf2\r\n"
        b"From: <sip:a@b>;tag=1\r\n"
        b"To: <sip:c@d>\r\n"
        b"Call-ID: folded\r\n"
        b"CSeq: 1 OPTIONS\r\n"
        b"Subject: I know you're there,\r\n"
        b"    pick up the phone\r\n"
        b"\tand talk to me!\r\n"
        b"\r\n"
    )
    assert message.header("Subject") == "I know you're there, pick up the phone and talk to me!"
    assert message.headers_named("Via") == [
        "SIP/2.0/UDP first.example;branch=z9hG4bKf1",
        "SIP/2.0/UDP second.example;branch=z9hG4bKf2",
    ]
    assert message.top_branch == "z9hG4bKf1"


def test_bare_lf_line_endings_are_tolerated() -> None:
    head = INVITE.partition(b"\r\n\r\n")[0].replace(b"\r\n", b"\n")
    message = _request(head + b"\n\n" + ALICE_SDP)
    assert message.call_id == "a84b4c76e66710"
    assert message.top_branch == "z9hG4bK77ef4c2312983.1"
    assert message.body == ALICE_SDP


# --- Content-Length --------------------------------------------------------------------


def test_content_length_truncates_a_longer_body() -> None:
    invite = _request(INVITE + b"trailing garbage")
    assert invite.body == ALICE_SDP


def test_a_body_shorter_than_content_length_is_rejected() -> None:
    with pytest.raises(SipParseError, match="shorter than its Content-Length"):
        parse(INVITE[:-5])


def test_without_content_length_the_whole_rest_is_the_body() -> None:
    invite = _request(_without(INVITE, b"Content-Length"))
    assert invite.body == ALICE_SDP


@pytest.mark.parametrize("value", [b"abc", b"1.5", b""])
def test_a_content_length_that_is_not_a_number_is_rejected(value: bytes) -> None:
    data = _without(RINGING, b"Content-Length").replace(
        b"CSeq", b"Content-Length: " + value + b"\r\nCSeq"
    )
    with pytest.raises(SipParseError, match="Content-Length"):
        parse(data)


def test_a_negative_content_length_is_rejected() -> None:
    data = RINGING.replace(b"Content-Length: 0", b"Content-Length: -2") + b"abcd"
    with pytest.raises(SipParseError, match="Content-Length"):
        parse(data)


# --- malformed messages ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["Via", "From", "To", "Call-ID", "CSeq"])
def test_a_missing_mandatory_header_is_named(name: str) -> None:
    with pytest.raises(SipParseError, match=re.escape(f"the {name} header is missing")):
        parse(_without(INVITE, name.encode()))
    with pytest.raises(SipParseError, match=re.escape(f"the {name} header is missing")):
        parse(_without(RINGING, name.encode()))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\r\n\r\n", id="keep-alive"),
        pytest.param(b"hello world", id="text"),
        pytest.param(b"\x00\x01\x02\x03" * 10, id="binary"),
        pytest.param(b"\xff\xfe\r\n\r\n", id="not-utf8"),
        pytest.param(RINGING.replace(b"SIP/2.0 180", b"HTTP/1.1 180"), id="http"),
        pytest.param(RINGING.replace(b"SIP/2.0 180", b"SIP/2.0 18"), id="two-digit-status"),
        pytest.param(INVITE.replace(b"INVITE sip", b"invite sip", 1), id="lowercase-method"),
        pytest.param(INVITE.replace(b" SIP/2.0\r\n", b" SIP/3.0\r\n", 1), id="version"),
        pytest.param(INVITE.replace(b"Max-Forwards: 69", b"Max-Forwards 69"), id="no-colon"),
        pytest.param(INVITE.replace(b"Max-Forwards: 69", b": 69"), id="no-name"),
    ],
)
def test_garbage_is_rejected(data: bytes) -> None:
    with pytest.raises(SipParseError):
        parse(data)


# --- properties ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cseq", "expected"),
    [
        ("314159 INVITE", (314159, "INVITE")),
        ("2 bye", (2, "BYE")),
        ("x INVITE", (0, "INVITE")),
        ("", (0, "")),
    ],
)
def test_cseq_is_the_number_and_the_upper_case_method(cseq: str, expected: tuple[int, str]) -> None:
    response = SipResponse(headers=(("CSeq", cseq),), status=200, reason="OK")
    assert response.cseq == expected


def test_cseq_without_the_header_is_zero() -> None:
    assert SipResponse(status=200, reason="OK").cseq == (0, "")


@pytest.mark.parametrize(
    ("vias", "expected"),
    [
        (("SIP/2.0/UDP a;branch=z9hG4bKa1;rport",), "z9hG4bKa1"),
        (("SIP/2.0/UDP a;rport;BRANCH=z9hG4bKa2",), "z9hG4bKa2"),
        (("SIP/2.0/UDP a;branch=z9hG4bKa3, SIP/2.0/UDP b;branch=z9hG4bKb3",), "z9hG4bKa3"),
        (("SIP/2.0/UDP a;branch=z9hG4bKa4", "SIP/2.0/UDP b;branch=z9hG4bKb4"), "z9hG4bKa4"),
        (("SIP/2.0/UDP a;received=192.0.2.1, SIP/2.0/UDP b;branch=z9hG4bKb5",), None),
        ((), None),
    ],
)
def test_top_branch_is_the_first_via_s_branch(vias: tuple[str, ...], expected: str | None) -> None:
    request = SipRequest(headers=tuple(("Via", via) for via in vias), method="ACK", uri="sip:a")
    assert request.top_branch == expected


# --- helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a, b,c", ["a", "b", "c"]),
        ("<sip:a@b;x=1,2>, <sip:c@d>", ["<sip:a@b;x=1,2>", "<sip:c@d>"]),
        ('"Doe, John" <sip:j@x>, <sip:k@y>', ['"Doe, John" <sip:j@x>', "<sip:k@y>"]),
        ('"<,>" <sip:j@x>, <sip:k@y>', ['"<,>" <sip:j@x>', "<sip:k@y>"]),
        ('"a \\"b, c\\" d" <sip:j@x>, <sip:k@y>', ['"a \\"b, c\\" d" <sip:j@x>', "<sip:k@y>"]),
        ("INVITE, ACK ,, BYE,", ["INVITE", "ACK", "BYE"]),
        ("", []),
        ("single", ["single"]),
    ],
)
def test_split_commas_keeps_commas_inside_brackets_and_quotes(
    value: str, expected: list[str]
) -> None:
    assert split_commas(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Bob <sip:bob@biloxi.com>;tag=a6c85cf", "a6c85cf"),
        ('"Bob" <sip:bob@biloxi.com> ; tag=x1;foo=bar', "x1"),
        ("<sip:bob@biloxi.com>;TAG=Upper", "Upper"),
        ("sip:bob@biloxi.com;tag=bare", "bare"),
        ("<sip:bob@biloxi.com;tag=inside>", None),
        ("<sip:bob@biloxi.com;tag=inside>;tag=outside", "outside"),
        ("<sip:bob@biloxi.com;tag=inside>;foo=bar", None),
        ("Bob <sip:bob@biloxi.com>", None),
        (None, None),
    ],
)
def test_tag_of_reads_the_header_s_tag_not_the_uri_s(
    value: str | None, expected: str | None
) -> None:
    assert tag_of(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"Name" <sip:x@y>;tag=1', "sip:x@y"),
        ("<sip:x@y;transport=udp>;tag=1", "sip:x@y;transport=udp"),
        ("< sip:x@y >", "sip:x@y"),
        ("sip:x@y;tag=1", "sip:x@y"),
        ("  sip:x@y  ", "sip:x@y"),
    ],
)
def test_uri_of_reads_name_addr_and_addr_spec(value: str, expected: str) -> None:
    assert uri_of(value) == expected


# --- responses -------------------------------------------------------------------------


def test_response_to_copies_vias_from_call_id_cseq_and_tags_to() -> None:
    invite = _request()
    response = response_to(invite, 486, "Busy Here", to_tag="ours")
    assert (response.status, response.reason) == (486, "Busy Here")
    assert response.headers == (
        ("Via", "SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1"),
        ("Via", "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1"),
        ("From", "Alice <sip:alice@atlanta.com>;tag=1928301774"),
        ("To", "Bob <sip:bob@biloxi.com>;tag=ours"),
        ("Call-ID", "a84b4c76e66710"),
        ("CSeq", "314159 INVITE"),
    )
    assert response.body == b""
    assert parse(response.render()) == SipResponse(
        headers=(*response.headers, ("Content-Length", "0")), status=486, reason="Busy Here"
    )


def test_response_to_keeps_an_existing_to_tag() -> None:
    bye = _request(
        RINGING.replace(b"SIP/2.0 180 Ringing", b"BYE sip:alice@pc33.atlanta.com SIP/2.0")
    )
    response = response_to(bye, 200, "OK", to_tag="ours")
    assert response.header("To") == "Bob <sip:bob@biloxi.com>;tag=a6c85cf"


def test_response_to_a_to_tag_inside_the_uri_is_not_the_header_s_tag() -> None:
    request = SipRequest(
        headers=(("To", "<sip:bob@biloxi.com;tag=inuri>"),), method="OPTIONS", uri="sip:b"
    )
    response = response_to(request, 200, "OK", to_tag="ours")
    assert response.header("To") == "<sip:bob@biloxi.com;tag=inuri>;tag=ours"


def test_response_to_without_a_to_tag_leaves_to_alone() -> None:
    response = response_to(_request(), 100, "Trying")
    assert response.header("To") == "Bob <sip:bob@biloxi.com>"


def test_response_to_appends_extra_headers_and_the_body() -> None:
    options = _request(OK.replace(b"SIP/2.0 200 OK", b"OPTIONS sip:alice@atlanta.com SIP/2.0"))
    response = response_to(
        options,
        200,
        "OK",
        to_tag="t",
        extra=(("Allow", "INVITE, ACK, BYE"), ("Content-Type", "application/sdp")),
        body=b"v=0\r\n",
    )
    names = [name for name, _ in response.headers]
    assert names == ["Via", "From", "To", "Call-ID", "CSeq", "Allow", "Content-Type"]
    assert response.header("Via") == "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;rport=5060"
    assert response.header("To") == "<sip:bob@biloxi.com>;tag=as5f1c2e3d"  # already tagged
    assert response.body == b"v=0\r\n"
    assert parse(response.render()).body == b"v=0\r\n"
