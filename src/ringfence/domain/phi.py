"""PHI (protected health information) rules: what a call keeps, for how long, and who saw it.

The product description: "Voice AI outbound calls can carry PHI. The transcripts and
recordings are stored in your account ... Keep recordings retention-policied. Review your
account's recording retention settings and purge appropriately." So each account picks how
long its recordings and transcripts live (30, 90 or 365 days, or keep), a purge removes them
after that, and every read of one is logged.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final


class PhiKind(StrEnum):
    """The two PHI artefacts of a call."""

    RECORDING = "recording"
    TRANSCRIPT = "transcript"


class PhiAccessVia(StrEnum):
    """Through which door a recording or transcript was read."""

    API = "api"
    WEB = "web"  # a signed-in staff member's dashboard drawer
    SHARE = "share"  # a read-only share link made "with recordings and transcripts"


# The retention choices an account has; None (not in this tuple) means "keep".
RETENTION_DAYS: Final = (30, 90, 365)


def retention_cutoff(now: datetime, days: int) -> datetime:
    """Calls that ended before this instant are past a `days`-day retention policy.

    A call that ended exactly `days` days ago is still kept: the policy promises *at least*
    `days` days, so a 31-day-old call is purged under a 30-day policy and a 30-day-old one
    waits for the next pass.
    """
    if days not in RETENTION_DAYS:
        raise ValueError(f"retention must be one of {RETENTION_DAYS} days (or keep)")
    return now - timedelta(days=days)


def policy_label(days: int) -> str:
    """How a purge names the policy it applied, e.g. "retention 30 days"."""
    return f"retention {days} days"


def describe_policy(policy: str) -> str:
    """A tombstone's policy as staff read it: "retention 30 days" -> "the 30-day policy"."""
    words = policy.split()
    if len(words) == 3 and words[0] == "retention" and words[1].isdigit():
        return f"the {words[1]}-day policy"
    return f"the policy “{policy}”"
