"""The dashboard's filters, read from and written back to the URL (so a view bookmarks).

Time ranges are whole calendar days in the location's time zone: "Today" is the location's
today, "7 Days" is today and the six days before it, "Custom" is an inclusive pair of dates.
Parsing never guesses: a bad value is a `FilterError` naming the query parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Final, TypeVar
from urllib.parse import urlencode

from ringfence.domain.dashboard.statuses import DashStatus
from ringfence.domain.vocabulary import CallDirection, CallType

MAX_CUSTOM_DAYS: Final = 366
_E = TypeVar("_E", bound=StrEnum)


class TimeRange(StrEnum):
    TODAY = "today"
    DAYS_7 = "7d"
    DAYS_30 = "30d"
    CUSTOM = "custom"


class Granularity(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class SortKey(StrEnum):
    """The call log's sortable columns."""

    DATE = "date"
    STATUS = "status"
    WORKFLOW = "workflow"
    DURATION = "duration"
    CALLER_ID = "caller_id"
    RECORDING = "recording"  # calls with a recording first (descending), then without
    TRANSCRIPT = "transcript"


class FilterError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


_RANGE_DAYS: Final = {TimeRange.TODAY: 1, TimeRange.DAYS_7: 7, TimeRange.DAYS_30: 30}


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardFilters:
    time_range: TimeRange = TimeRange.DAYS_7
    start: date | None = None  # Custom only
    end: date | None = None  # Custom only, inclusive
    call_type: CallType = CallType.LIVE
    workflow_id: int | None = None
    statuses: frozenset[DashStatus] = field(default_factory=frozenset)
    from_number_id: int | None = None
    granularity: Granularity = Granularity.DAILY
    sort: SortKey = SortKey.DATE
    descending: bool = True
    page: int = 1
    # Which calls the view is about: the ones we placed, or the ones the practice's lines
    # answered. Part of the filter set, so a share link is bound to its direction; a link
    # stored before inbound existed has none in its query and stays outbound.
    direction: CallDirection = CallDirection.OUTBOUND

    def days(self, today: date) -> tuple[date, date]:
        """The inclusive first and last local day the view covers, given the location's
        today."""
        if self.time_range is TimeRange.CUSTOM:
            if self.start is None or self.end is None:
                raise FilterError("from", "a custom range needs both dates")
            return self.start, self.end
        return today - timedelta(days=_RANGE_DAYS[self.time_range] - 1), today

    def query(self, **changes: object) -> str:
        """This view's URL query, with `changes` applied (defaults are left out)."""
        view = replace(self, **changes) if changes else self  # type: ignore[arg-type]
        return urlencode(view.params(), doseq=True)

    def with_statuses(self, *statuses: str) -> str:
        """The query of this view narrowed to `statuses` (a tile's link to the call log)."""
        return self.query(statuses=frozenset(DashStatus(s) for s in statuses), page=1)

    def with_trend(self, granularity: str) -> str:
        return self.query(granularity=Granularity(granularity))

    def sorted_by(self, key: str) -> str:
        """The query that sorts the log by column `key`: a second click reverses it."""
        sort = SortKey(key)
        descending = not self.descending if sort is self.sort else sort is SortKey.DATE
        return self.query(sort=sort, descending=descending, page=1)

    def params(self) -> list[tuple[str, str]]:
        default = _DEFAULT
        pairs: list[tuple[str, str]] = []
        if self.time_range is not default.time_range:
            pairs.append(("range", self.time_range.value))
        if self.time_range is TimeRange.CUSTOM and self.start and self.end:
            pairs += [("from", self.start.isoformat()), ("to", self.end.isoformat())]
        if self.call_type is not default.call_type:
            pairs.append(("type", self.call_type.value))
        if self.workflow_id is not None:
            pairs.append(("workflow", str(self.workflow_id)))
        pairs += [("status", s.value) for s in sorted(self.statuses)]
        if self.from_number_id is not None:
            pairs.append(("number", str(self.from_number_id)))
        if self.granularity is not default.granularity:
            pairs.append(("trend", self.granularity.value))
        if self.sort is not default.sort:
            pairs.append(("sort", self.sort.value))
        if self.descending is not default.descending:
            pairs.append(("dir", "desc" if self.descending else "asc"))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        if self.direction is not default.direction:
            pairs.append(("direction", self.direction.value))
        return pairs

    @property
    def is_test(self) -> bool:
        return self.call_type is CallType.TEST

    @property
    def is_inbound(self) -> bool:
        return self.direction is CallDirection.INBOUND


_DEFAULT: Final = DashboardFilters()


def parse_filters(params: Mapping[str, Sequence[str]]) -> DashboardFilters:
    """The filters of a URL query (each name to its values, as in `parse_qs`)."""
    time_range = _enum(params, "range", TimeRange, _DEFAULT.time_range)
    start = _date(params, "from")
    end = _date(params, "to")
    if time_range is TimeRange.CUSTOM:
        if start is None:
            raise FilterError("from", "a custom range needs a start date (YYYY-MM-DD)")
        if end is None:
            raise FilterError("to", "a custom range needs an end date (YYYY-MM-DD)")
        if end < start:
            raise FilterError("to", f"the end date {end} is before the start date {start}")
        if (end - start).days + 1 > MAX_CUSTOM_DAYS:
            raise FilterError("to", f"a custom range covers at most {MAX_CUSTOM_DAYS} days")
    else:
        start = end = None
    statuses = frozenset(
        _member(DashStatus, "status", value) for value in params.get("status", ()) if value
    )
    direction = _single(params, "dir")
    if direction not in (None, "", "asc", "desc"):
        raise FilterError("dir", f"{direction!r} is not asc or desc")
    return DashboardFilters(
        time_range=time_range,
        start=start,
        end=end,
        call_type=_enum(params, "type", CallType, _DEFAULT.call_type),
        workflow_id=_id(params, "workflow"),
        statuses=statuses,
        from_number_id=_id(params, "number"),
        granularity=_enum(params, "trend", Granularity, _DEFAULT.granularity),
        sort=_enum(params, "sort", SortKey, _DEFAULT.sort),
        descending=_DEFAULT.descending if not direction else direction == "desc",
        page=_id(params, "page") or 1,
        direction=_enum(params, "direction", CallDirection, _DEFAULT.direction),
    )


def _single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or ()
    if len(values) > 1:
        raise FilterError(name, "given more than once")
    return values[0] if values else None


def _enum(params: Mapping[str, Sequence[str]], name: str, kind: type[_E], default: _E) -> _E:
    value = _single(params, name)
    return default if not value else _member(kind, name, value)


def _member(kind: type[_E], name: str, value: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise FilterError(name, f"{value!r} is not one of: {choices}") from None


def _date(params: Mapping[str, Sequence[str]], name: str) -> date | None:
    value = _single(params, name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(name, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _id(params: Mapping[str, Sequence[str]], name: str) -> int | None:
    value = _single(params, name)
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 2**31 - 1:
        raise FilterError(name, f"{value!r} is not a positive whole number")
    return int(value)
