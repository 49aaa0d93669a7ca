"""Digest authentication against the RFCs' worked examples (RFC 2069, 2617, 7616)."""

from __future__ import annotations

import hashlib
import re

import pytest

from ringfence.adapters.telephony.sip.digest import (
    Challenge,
    DigestError,
    authorization,
    parse_challenge,
)

_PARAM = re.compile(r'([a-z]+)=("[^"]*"|[^,\s]+)')


def _params(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    assert scheme == "Digest"
    return dict(_PARAM.findall(rest))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


# RFC 2617 §3.5
RFC2617_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)
# RFC 7616 §3.9.1 (the SHA-256 challenge)
RFC7616_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)


def test_the_rfc_2617_challenge_parses() -> None:
    assert parse_challenge(RFC2617_CHALLENGE) == Challenge(
        realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        algorithm="MD5",
        qop=("auth", "auth-int"),
        opaque="5ccc069c403ebaf9f0171e9517f40e41",
        stale=False,
    )


def test_the_rfc_2617_md5_example_gives_its_response() -> None:
    header = authorization(
        parse_challenge(RFC2617_CHALLENGE),
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle Of Life",
        cnonce="0a4f113b",
        nonce_count=1,
    )
    assert _params(header) == {
        "username": '"Mufasa"',
        "realm": '"testrealm@host.com"',
        "nonce": '"dcd98b7102dd2f0e8b11d0f600bfb0c093"',
        "uri": '"/dir/index.html"',
        "response": '"6629fae49393a05397450978507c4ef1"',
        "algorithm": "MD5",
        "qop": "auth",
        "nc": "00000001",
        "cnonce": '"0a4f113b"',
        "opaque": '"5ccc069c403ebaf9f0171e9517f40e41"',
    }


def test_the_rfc_7616_sha_256_example_gives_its_response() -> None:
    challenge = parse_challenge(RFC7616_CHALLENGE)
    assert (challenge.algorithm, challenge.qop) == ("SHA-256", ("auth", "auth-int"))
    header = authorization(
        challenge,
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle of Life",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    params = _params(header)
    assert (
        params["response"] == '"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"'
    )
    assert params["algorithm"] == "SHA-256"
    assert (params["qop"], params["nc"]) == ("auth", "00000001")
    assert params["opaque"] == '"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'


def test_without_qop_the_rfc_2069_form_is_used() -> None:
    # RFC 2069 §2.4's example, with the response as corrected by its erratum.
    challenge = parse_challenge(
        'Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert challenge.qop == ()
    header = authorization(
        challenge,
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="CircleOfLife",
        cnonce="unused",
    )
    params = _params(header)
    assert params["response"] == '"1949323746fe6a43ef61f9606e7febea"'
    assert not {"qop", "nc", "cnonce"} & params.keys()
    assert params["opaque"] == '"5ccc069c403ebaf9f0171e9517f40e41"'


def test_a_sip_register_challenge_without_opaque_answers_without_opaque() -> None:
    challenge = parse_challenge('Digest realm="asterisk",nonce="1a2b3c4d"')
    header = authorization(
        challenge,
        method="REGISTER",
        uri="sip:trunk.example",
        username="u",
        password="p",
        cnonce="c",
    )
    ha1, ha2 = _md5("u:asterisk:p"), _md5("REGISTER:sip:trunk.example")
    assert _params(header)["response"] == f'"{_md5(f"{ha1}:1a2b3c4d:{ha2}")}"'
    assert "opaque" not in _params(header)


def test_md5_sess_hashes_the_nonce_and_cnonce_into_ha1() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n", qop="auth", algorithm=MD5-sess')
    assert challenge.algorithm == "MD5-SESS"
    header = authorization(
        challenge, method="INVITE", uri="sip:b@x", username="u", password="p", cnonce="c"
    )
    ha1 = _md5(f"{_md5('u:r:p')}:n:c")
    expected = _md5(f"{ha1}:n:00000001:c:auth:{_md5('INVITE:sip:b@x')}")
    assert _params(header)["response"] == f'"{expected}"'


def test_sha_256_sess_is_accepted() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n", algorithm=sha-256-sess')
    header = authorization(
        challenge, method="INVITE", uri="sip:b@x", username="u", password="p", cnonce="c"
    )
    assert len(_params(header)["response"]) == 64 + 2


def test_the_nonce_count_is_eight_hex_digits() -> None:
    header = authorization(
        parse_challenge(RFC2617_CHALLENGE),
        method="GET",
        uri="/",
        username="u",
        password="p",
        cnonce="c",
        nonce_count=255,
    )
    assert _params(header)["nc"] == "000000ff"


def test_a_challenge_offering_only_auth_int_cannot_be_answered() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n", qop="auth-int"')
    with pytest.raises(DigestError, match="auth-int"):
        authorization(challenge, method="GET", uri="/", username="u", password="p", cnonce="c")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "Digest realm=asterisk,nonce=abc123,algorithm=md5,qop=auth",
            Challenge(realm="asterisk", nonce="abc123", algorithm="MD5", qop=("auth",)),
        ),
        (
            'digest  realm="a, b",  nonce="x,y=z" , stale=TRUE, opaque=""',
            Challenge(realm="a, b", nonce="x,y=z", stale=True, opaque=""),
        ),
        (
            'Digest REALM="r", NONCE="n", Stale=false, QOP="Auth"',
            Challenge(realm="r", nonce="n", qop=("auth",)),
        ),
        (
            r'Digest realm="say \"hi\"", nonce="n"',
            Challenge(realm='say "hi"', nonce="n"),
        ),
        (
            'Digest realm="r", nonce="n", qop="auth,auth-int,,"',
            Challenge(realm="r", nonce="n", qop=("auth", "auth-int")),
        ),
    ],
)
def test_challenge_parameters_parse_quoted_or_not(header: str, expected: Challenge) -> None:
    assert parse_challenge(header) == expected


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ('Basic realm="trunk"', "Basic scheme"),
        ("", "empty scheme"),
        ('Digest realm="r"', "no nonce"),
        ('Digest nonce="n"', "no realm"),
        ('Digest realm="r", nonce="n", algorithm=SHA-512-256', "SHA-512-256 algorithm"),
        ('Digest realm="r", nonce="n", algorithm=AKAv1-MD5', "AKAV1-MD5 algorithm"),
    ],
)
def test_challenges_this_client_cannot_answer_raise(header: str, message: str) -> None:
    with pytest.raises(DigestError, match=re.escape(message)):
        parse_challenge(header)
