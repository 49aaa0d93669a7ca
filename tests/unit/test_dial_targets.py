"""Which line-test targets name a phone number (and so must go through a workflow instead)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.domain.dial_targets import phone_number_in


@pytest.mark.parametrize(
    ("target", "number"),
    [
        ("sip:+12125550147@trunk", "+12125550147"),
        ("sips:+12125550147@trunk.example.com:5061", "+12125550147"),
        ("sip:2125550147@pbx", "2125550147"),
        ("sip:12125550147@pbx;user=phone", "12125550147"),
        ("sip:1-212-555-0147@pbx", "1-212-555-0147"),
        ("sip:(212)555-0147@pbx", "(212)555-0147"),
        ("sip:212.555.0147@pbx", "212.555.0147"),
        ("sip:(212)%20555-0147@pbx", "(212) 555-0147"),
        ("sip:%2B12125550147@trunk", "+12125550147"),
        ("sip:+442079460018@trunk", "+442079460018"),
        ("sip:+12125550147;npdi@trunk", "+12125550147"),
        ("sip:+12125550147:secret@trunk", "+12125550147"),
        ("sip:912125550147@pbx", "912125550147"),  # 9 for an outside line, then the number
        ("sip:011442079460018@pbx", "011442079460018"),  # international dialing from the US
        ("sip:*6712125550147@pbx", "*6712125550147"),  # caller-ID blocking prefix
        ("tel:+1-212-555-0147", "+1-212-555-0147"),
        ("TEL:+12125550147", "+12125550147"),
        ("tel:100;phone-context=pbx.example.com", "100"),
        ("sip:5550147@trunk;user=phone", "5550147"),  # the URI says it is a phone number
        ("sip:100@pbx;transport=udp;USER=PHONE", "100"),
        ("SIP:+12125550147@trunk", "+12125550147"),
    ],
)
def test_phone_numbers_are_found(target: str, number: str) -> None:
    assert phone_number_in(target) == number


@pytest.mark.parametrize(
    "target",
    [
        "sip:alice@example.com",
        "sip:line@127.0.0.1:5062",
        "sip:100@pbx",
        "sip:200@pbx.example.com;transport=tcp",
        "sips:4711@pbx.example.com",
        "sip:front.desk@pbx",
        "sip:123456@pbx",
        "sip:echo-test@sip.example.org",
        "sip:pbx.example.com",  # no user part at all
        "sip:12125550147x@pbx",  # a name, not a dial string
        "sip:100@pbx;user=ip",
    ],
)
def test_extensions_and_names_are_not_phone_numbers(target: str) -> None:
    assert phone_number_in(target) is None


_SEPARATORS = st.sampled_from(["", "", "", "-", ".", "%20", "(", ")"])


def _spread(digits: str, separators: list[str]) -> str:
    """The digits with a visual separator (often none) after each one."""
    return "".join(d + s for d, s in zip(digits, separators, strict=False))


@st.composite
def phone_users(draw: st.DrawFn) -> str:
    """A user part that dials a phone: E.164 or 10-11 national digits, with separators."""
    if draw(st.booleans()):
        digits = draw(st.from_regex(r"[1-9][0-9]{6,14}", fullmatch=True))
        prefix = draw(st.sampled_from(["+", "%2B", "%2b"]))
    else:
        digits = draw(st.from_regex(r"1?[2-9][0-9]{9}", fullmatch=True))
        prefix = ""
    separators = draw(st.lists(_SEPARATORS, min_size=len(digits), max_size=len(digits)))
    return prefix + _spread(digits, separators)


hosts = st.sampled_from(["trunk", "pbx.example.com", "127.0.0.1:5062", "[::1]:5060"])
uri_params = st.sampled_from(["", ";transport=udp", ";transport=tcp;lr"])
user_params = st.sampled_from(["", ";npdi", ";rn=+12125550000"])
passwords = st.sampled_from(["", ":secret"])
schemes = st.sampled_from(["sip:", "sips:", "SIP:"])


@given(
    scheme=schemes,
    user=phone_users(),
    user_param=user_params,
    password=passwords,
    host=hosts,
    params=st.one_of(uri_params, st.just(";user=phone"), st.just(";user=phone;transport=tcp")),
)
def test_every_phone_number_notation_is_refused(
    scheme: str, user: str, user_param: str, password: str, host: str, params: str
) -> None:
    assert phone_number_in(f"{scheme}{user}{user_param}{password}@{host}{params}") is not None


@given(number=st.text(min_size=1, max_size=30).filter(lambda t: "@" not in t))
def test_a_tel_uri_is_always_a_phone_number(number: str) -> None:
    assert phone_number_in(f"tel:{number}") is not None


names = st.from_regex(r"[a-z][a-z0-9._-]{0,20}", fullmatch=True)
extensions = st.from_regex(r"[0-9]{1,6}", fullmatch=True)


@given(
    scheme=schemes,
    user=st.one_of(names, extensions),
    password=passwords,
    host=hosts,
    params=uri_params,
)
def test_extensions_and_names_stay_allowed(
    scheme: str, user: str, password: str, host: str, params: str
) -> None:
    assert phone_number_in(f"{scheme}{user}{password}@{host}{params}") is None
