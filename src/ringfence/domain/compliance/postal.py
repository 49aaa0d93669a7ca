"""US ZIP code -> state and candidate time zones, from a small hand-maintained table.

Coverage (docs/compliance.md, "Postal codes"):
- State: every US ZIP code, from the USPS 3-digit prefix (ZIP3) ranges, including DC and the
  territories (PR, VI, GU, AS via 96799). Military (AA/AE/AP) prefixes map to nothing.
- Zones: the zones of the whole state, which is the conservative choice for the states that
  span two zones (FL, IN, KY, MI, TN, TX, KS, NE, ND, SD, ID, OR, NV, AK, AZ with the Navajo
  Nation). A few ZIP3 prefixes that lie wholly in one zone narrow that: Florida outside the
  panhandle, Texas outside El Paso, Arizona outside the Navajo Nation. A postal zone only ever
  adds to the area code's zones, so a coarse entry can make a window shorter, never wrong.
Anything that is not a 5-digit (or ZIP+4) US code is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

_ZIP = re.compile(r"(\d{5})(?:-?\d{4})?")

_ET = "America/New_York"
_CT = "America/Chicago"
_MT = "America/Denver"
_AZ = "America/Phoenix"
_PT = "America/Los_Angeles"

# Inclusive ZIP3 ranges -> state, from the USPS prefix allocation.
_ZIP3_RANGES: tuple[tuple[int, int, str], ...] = (
    (5, 5, "NY"), (6, 7, "PR"), (8, 8, "VI"), (9, 9, "PR"),
    (10, 27, "MA"), (28, 29, "RI"), (30, 38, "NH"), (39, 49, "ME"),
    (50, 54, "VT"), (55, 55, "MA"), (56, 59, "VT"), (60, 69, "CT"), (70, 89, "NJ"),
    (100, 149, "NY"), (150, 196, "PA"), (197, 199, "DE"),
    (200, 200, "DC"), (201, 201, "VA"), (202, 205, "DC"), (206, 219, "MD"),
    (220, 246, "VA"), (247, 268, "WV"), (270, 289, "NC"), (290, 299, "SC"),
    (300, 319, "GA"), (320, 339, "FL"), (341, 349, "FL"), (350, 369, "AL"),
    (370, 385, "TN"), (386, 397, "MS"), (398, 399, "GA"), (400, 427, "KY"),
    (430, 459, "OH"), (460, 479, "IN"), (480, 499, "MI"), (500, 528, "IA"),
    (530, 549, "WI"), (550, 567, "MN"), (569, 569, "DC"), (570, 577, "SD"),
    (580, 588, "ND"), (590, 599, "MT"), (600, 629, "IL"), (630, 658, "MO"),
    (660, 679, "KS"), (680, 693, "NE"), (700, 714, "LA"), (716, 729, "AR"),
    (730, 732, "OK"), (733, 733, "TX"), (734, 749, "OK"), (750, 799, "TX"),
    (800, 816, "CO"), (820, 831, "WY"), (832, 838, "ID"), (840, 847, "UT"),
    (850, 865, "AZ"), (870, 884, "NM"), (885, 885, "TX"), (889, 898, "NV"),
    (900, 961, "CA"), (967, 968, "HI"), (969, 969, "GU"), (970, 979, "OR"),
    (980, 994, "WA"), (995, 999, "AK"),
)  # fmt: skip

# Every zone each state (and territory) uses; aliases with identical rules since 2007
# (Detroit, Indianapolis, Boise, Juneau...) are represented by one canonical zone.
_ZONES_BY_STATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("CT DE DC GA ME MD MA NH NJ NY NC OH PA RI SC VT VA WV", (_ET,)),
    ("AL AR IL IA LA MN MS MO OK WI", (_CT,)),
    ("CO MT NM UT WY", (_MT,)),
    ("CA WA", (_PT,)),
    ("FL IN KY MI TN", (_ET, _CT)),
    ("KS NE ND SD TX", (_CT, _MT)),
    ("ID OR", (_MT, _PT)),
    ("NV", (_PT, _MT)),  # West Wendover keeps Mountain time
    ("AZ", (_AZ, _MT)),  # the Navajo Nation observes DST
    ("HI", ("Pacific/Honolulu",)),
    ("AK", ("America/Anchorage", "America/Adak")),
    ("PR", ("America/Puerto_Rico",)),
    ("VI", ("America/St_Thomas",)),
    ("GU", ("Pacific/Guam",)),
    ("AS", ("Pacific/Pago_Pago",)),
)
_STATE_ZONES: dict[str, tuple[str, ...]] = {
    state: zones for states, zones in _ZONES_BY_STATES for state in states.split()
}

# ZIP3 prefixes of a multi-zone state that lie wholly in one zone.
_ZIP3_ZONES: dict[int, tuple[str, ...]] = {
    # Florida: only the panhandle west of the Apalachicola (324 mixed, 325 Pensacola) is Central.
    **dict.fromkeys((*range(320, 324), *range(326, 340), *range(341, 350)), (_ET,)),
    325: (_CT,),
    # Texas: El Paso (799, 885) is Mountain; 798 is mixed; the rest is Central.
    **dict.fromkeys((733, *range(750, 798)), (_CT,)),
    799: (_MT,),
    885: (_MT,),
    # Arizona: the Navajo Nation (DST) lies in 860 and 865; the rest never observes DST.
    **dict.fromkeys((*range(850, 860), 863, 864), (_AZ,)),
}

_SPECIAL_ZIP5: dict[str, str] = {"96799": "AS"}  # American Samoa shares Hawaii's 967
_TERRITORIES = frozenset({"PR", "VI", "GU", "AS"})


@dataclass(frozen=True, slots=True)
class PostalPlace:
    """Where a US postal code is: its state (or territory) and the zones it may be in."""

    zip5: str
    state: str
    zones: frozenset[str]

    @property
    def is_territory(self) -> bool:
        """PR, VI, GU, AS: their zones count, but they have no state solicitation rules."""
        return self.state in _TERRITORIES


@cache
def _zip3_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for low, high, state in _ZIP3_RANGES:
        for prefix in range(low, high + 1):
            table[prefix] = state
    return table


@lru_cache(maxsize=1 << 16)
def postal_place(postal_code: str) -> PostalPlace | None:
    """The state and candidate zones of a US ZIP code; None when unknown or not a US code."""
    match = _ZIP.fullmatch(postal_code.strip())
    if match is None:
        return None
    zip5 = match.group(1)
    prefix = int(zip5[:3])
    state = _SPECIAL_ZIP5.get(zip5) or _zip3_table().get(prefix)
    if state is None:
        return None
    zones = _ZIP3_ZONES.get(prefix) if state not in _SPECIAL_ZIP5.values() else None
    return PostalPlace(zip5, state, frozenset(zones or _STATE_ZONES[state]))
