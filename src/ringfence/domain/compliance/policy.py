"""The platform's compliance rule values: one frozen, versioned object.

The product description: "The platform enforces strict compliance and rate-limit rules
automatically. These are not configurable — they apply to every account using outbound AI
calling." So every number the engine uses lives here, in `PlatformPolicy`, and there is no
per-account override. A change of any value is a new `version` (it is recorded with each
evaluation so a verdict can be replayed against the rules that produced it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from ringfence.domain.vocabulary import Channel, ContactSource

POLICY_VERSION = "2026.2"


@dataclass(frozen=True, slots=True)
class LocalHours:
    """A local-time stretch of one day, `[start, end)`, in minutes after local midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= 24 * 60:
            raise ValueError(f"invalid local hours {self.start}-{self.end}")

    def __str__(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


def hours(start_hour: int, end_hour: int) -> LocalHours:
    """`hours(10, 18)` is 10:00-18:00 local."""
    return LocalHours(start_hour * 60, end_hour * 60)


class Confidence(StrEnum):
    """How sure the reference notes are of a state row (docs/compliance.md, "State table")."""

    CONFIRMED = "confirmed"  # statute or law-firm note
    CHARTS = "charts"  # vendor charts only
    UNCONFIRMED = "unconfirmed"  # unknown: the stricter known rule was chosen


@dataclass(frozen=True, slots=True)
class StateRule:
    """A state's telemarketing (solicitation) rule, for marketing-purpose calls only.

    Hours are local to the called party. `sunday=None` means Sunday calls are banned;
    `holidays_banned` bans the state's legal holidays (as the `holidays` package lists them).
    `per_24h_cap` caps calls to one number in any rolling 24 hours ("same subject" is read as
    "any subject", the stricter reading, because the engine cannot tell subjects apart).
    """

    state: str
    weekdays: LocalHours
    saturday: LocalHours
    sunday: LocalHours | None
    holidays_banned: bool = False
    per_24h_cap: int | None = None
    confidence: Confidence = Confidence.CHARTS
    note: str = ""


def _rule(
    state: str,
    weekdays: LocalHours,
    *,
    saturday: LocalHours | None = None,
    sunday: LocalHours | None = None,
    sunday_banned: bool = False,
    holidays_banned: bool = False,
    per_24h_cap: int | None = None,
    confidence: Confidence = Confidence.CHARTS,
    note: str = "",
) -> StateRule:
    return StateRule(
        state=state,
        weekdays=weekdays,
        saturday=saturday or weekdays,
        sunday=None if sunday_banned else (sunday or weekdays),
        holidays_banned=holidays_banned,
        per_24h_cap=per_24h_cap,
        confidence=confidence,
        note=note,
    )


_CONFIRMED = Confidence.CONFIRMED
_UNCONFIRMED = Confidence.UNCONFIRMED

# The reference notes' table (shared/reference/us-calling-rules.md, "State solicitation
# rules"). Where a cell says "unconfirmed" or "disputed", the stricter reading is encoded and
# the note says so.
STATE_RULES: tuple[StateRule, ...] = (
    _rule("FL", hours(8, 20), per_24h_cap=3, confidence=_CONFIRMED, note="Fla. Stat. 501.616"),
    _rule("OK", hours(8, 20), per_24h_cap=3, confidence=_CONFIRMED),
    _rule("MD", hours(8, 20), per_24h_cap=3, confidence=_CONFIRMED),
    _rule("WA", hours(8, 20), confidence=_CONFIRMED, note="RCW 19.158.040"),
    _rule("TX", hours(9, 21), sunday=hours(12, 21), confidence=_CONFIRMED),
    _rule(
        "LA",
        hours(8, 20),
        sunday_banned=True,
        holidays_banned=True,
        note="Sunday/holiday ban from charts; emergency ban confirmed",
    ),
    _rule("AL", hours(8, 20), sunday_banned=True, holidays_banned=True),
    _rule(
        "MS",
        hours(8, 20),
        sunday_banned=True,
        holidays_banned=True,
        note="hours and Sunday confirmed; holidays disputed, treated as banned",
    ),
    _rule(
        "UT",
        hours(8, 21),
        sunday_banned=True,
        holidays_banned=True,
        confidence=_CONFIRMED,
        note="Utah Code 13-25a-103",
    ),
    _rule("MA", hours(8, 20)),
    _rule("NY", hours(8, 21), confidence=_CONFIRMED, note="GBL 399-z"),
    _rule("CT", hours(9, 20), confidence=_CONFIRMED, note="PA 23-98"),
    _rule("KY", hours(10, 21)),
    _rule(
        "PA",
        hours(8, 21),
        sunday_banned=True,
        holidays_banned=True,
        note="hours confirmed; Sunday unconfirmed, treated as banned",
    ),
    _rule("RI", hours(9, 18), saturday=hours(10, 17), sunday_banned=True, holidays_banned=True),
    _rule("MN", hours(9, 21)),
    _rule("MI", hours(9, 21)),
    _rule("NV", hours(9, 20)),
    _rule("NM", hours(9, 21)),
    *(
        _rule(st, hours(8, 21), confidence=_UNCONFIRMED, note="unconfirmed: federal 08-21 applies")
        for st in ("VA", "GA", "AZ", "IN", "TN", "WY")
    ),
)


@dataclass(frozen=True, slots=True)
class PlatformPolicy:
    """Every rule value the compliance engine enforces. Frozen; compare by `version`.

    Defaults are the product description's table ("The platform enforces these throttles
    automatically") and the reference notes' state table.
    """

    version: str = POLICY_VERSION
    # "Outbound AI calls are only placed between 10:00 AM and 6:00 PM in the contact's
    # phone-number time zone." The dial start must fall in [10:00, 18:00).
    window: LocalHours = field(default_factory=lambda: hours(10, 18))
    # "Calls per minute per location | 1": at most one dial per rolling 60 seconds.
    location_pacing: timedelta = timedelta(minutes=1)
    # "Calls per day per location | 100 (overflow defers to next day)"
    location_daily_cap: int = 100
    # "Calls per day per phone number | 1" (the location's calendar day)
    number_daily_cap: int = 1
    # "Calls per phone number in any 14-day window | 4 (calls beyond this fail)"
    number_window_cap: int = 4
    number_window: timedelta = timedelta(days=14)
    # "Allowed countries | United States only" (libphonenumber region codes; territories
    # have their own codes, PR, GU, VI, AS, MP, and are excluded: docs/compliance.md)
    allowed_regions: frozenset[str] = frozenset({"US"})
    # Contact sources whose CRM-form opt-in is the expected evidence; every other source
    # needs written consent confirmed by staff.
    form_sources: frozenset[ContactSource] = frozenset({ContactSource.FORM})
    # An opt-out recorded on one of these channels (None = "all channels") stops voice calls:
    # every channel. FCC 24-24: consent may be revoked "by any reasonable means", and its
    # "revoke all" rule (47 CFR 64.1200(a)(10), in force 2027-01-31, applied here already)
    # makes a revocation in reply to one kind of message cover all robocalls and robotexts.
    # An email opt-out is read the same way: the stricter reading of "any channel".
    opt_out_channels_covering_voice: frozenset[Channel | None] = frozenset(
        {None, Channel.VOICE, Channel.SMS, Channel.EMAIL}
    )
    state_rules: tuple[StateRule, ...] = STATE_RULES
    # Risk warnings (they never block).
    cold_lead_after: timedelta = timedelta(days=90)
    stale_consent_months: int = 18
    warn_sources: frozenset[ContactSource] = frozenset(
        {ContactSource.IMPORT, ContactSource.EXTERNAL}
    )
    # How far ahead the engine looks for an allowed instant before it gives up (Fail
    # NO_CALLABLE_WINDOW). Windows repeat weekly, and bans cover at most a Sunday and an
    # adjacent holiday, so two weeks always finds one when one exists.
    search_horizon: timedelta = timedelta(days=14)

    def state_rule(self, state: str) -> StateRule | None:
        for rule in self.state_rules:
            if rule.state == state:
                return rule
        return None


DEFAULT_POLICY = PlatformPolicy()
