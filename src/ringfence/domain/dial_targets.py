"""Dial targets outside the dispatcher: does a URI reach a phone number?

`ringfence call-test` places a real call with no consent, window or throttle check, so it may
only reach extensions and test endpoints. A call to a phone number belongs to a contact and goes
through a workflow and the pre-dial compliance gate. `phone_number_in` is the pure test both the
command and the line-test service apply before dialing.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# RFC 3966 visual separators, and a space (staff paste "(212) 555-0147"; SIP escapes it %20).
_SEPARATORS = str.maketrans("", "", "-.() ")
_GLOBAL_NUMBER = re.compile(r"\+[0-9]")
# Digits with the keypad's * and # (feature codes such as *67 before the number).
_DIAL_STRING = re.compile(r"[0-9*#]+")

# A North American number is 10 digits (11 with the leading 1); a PBX's outside-line prefix
# (9 + number) or international dialing (011 + country + number) only adds digits. Extensions
# are shorter.
MIN_PHONE_DIGITS = 10


def phone_number_in(target: str) -> str | None:
    """The phone number `target` dials (its user part, unescaped), or None when it does not.

    A phone number is a `tel:` URI, or a `sip:`/`sips:` URI whose user part (without its
    parameters and password, after percent-decoding and dropping visual separators) is an
    E.164 number (`+` and digits) or a dial string of at least `MIN_PHONE_DIGITS` digits, or a
    SIP URI that says so itself (`;user=phone`, RFC 3261 19.1.1). Names (`sip:alice@host`) and
    short extensions (`sip:100@pbx`) are not.
    """
    scheme, colon, rest = target.partition(":")
    if not colon:
        return None
    scheme = scheme.lower()
    if scheme == "tel":
        return unquote(rest.split(";", 1)[0]) or target
    if scheme not in ("sip", "sips"):
        return None
    userinfo, at, hostport = rest.partition("@")
    if not at:
        return None
    user = unquote(userinfo.split(":", 1)[0].split(";", 1)[0])
    compact = user.translate(_SEPARATORS)
    if _GLOBAL_NUMBER.match(compact) or _says_phone(hostport):
        return user
    if _DIAL_STRING.fullmatch(compact) and sum(c.isdigit() for c in compact) >= MIN_PHONE_DIGITS:
        return user
    return None


def _says_phone(hostport: str) -> bool:
    """Whether the URI parameters after the host include `user=phone`."""
    params = hostport.split("?", 1)[0].split(";")[1:]
    return any(param.strip().lower() == "user=phone" for param in params)
