"""Each phone number's own carrier: a `TelephonyProvider` that routes by caller ID.

A practice may place some numbers' calls through Twilio and others through its SIP trunk or
the sandbox (`phone_numbers.carrier`). `CarrierRouter` sends each dial to the carrier of its
from-number (a map read from the database at construction and again every `refresh_every`, or
at once when a number it does not know yet shows up), and merges what the carriers report:
`lookup` asks each carrier in turn (a key lives on one of them), `completed_reports` gathers
all of theirs, `hangup` goes to the carrier that placed the call.

A caller ID is unique within its account only, so two tenants may register the same number
(each through its own carrier): the map is keyed by (account, number), and a dial names its
account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.orm import PhoneNumber
from ringfence.adapters.telephony.base import (
    BatchDialer,
    CallReport,
    DialReceipt,
    DialRequest,
    TelephonyError,
    TelephonyProvider,
)
from ringfence.clock import Clock
from ringfence.domain.vocabulary import CarrierKind

log = logging.getLogger("ringfence.carriers")

# A number not in the map is looked for again, but not more often than this.
_NEW_NUMBER_REFRESH: Final = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class NumberCarriers:
    """Each (account, caller ID)'s carrier."""

    by_account: Mapping[tuple[int, str], CarrierKind] = field(default_factory=dict)

    def kinds(self) -> set[CarrierKind]:
        return set(self.by_account.values())

    def carrier_of(self, from_e164: str, account_id: int | None) -> CarrierKind | None:
        """The carrier of `from_e164` in `account_id`; without an account, the one carrier
        every account holding the number agrees on (None when they differ or none does)."""
        if account_id is not None:
            return self.by_account.get((account_id, from_e164))
        kinds = {kind for (_, e164), kind in self.by_account.items() if e164 == from_e164}
        return kinds.pop() if len(kinds) == 1 else None


def load_number_carriers(session_factory: sessionmaker[Session]) -> NumberCarriers:
    """Every caller ID's carrier, from `phone_numbers`."""
    with session_factory() as session:
        rows = session.execute(
            select(PhoneNumber.account_id, PhoneNumber.e164, PhoneNumber.carrier)
        )
        return NumberCarriers({(row.account_id, row.e164): row.carrier for row in rows})


class UnavailableCarrier:
    """A carrier that is not set up (missing settings or package): it places no call and so
    knows none. Dials and hang-ups raise TelephonyError saying what to do."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def dial(self, request: DialRequest) -> DialReceipt:
        raise TelephonyError(f"{self.name} carrier unavailable: {self.reason}")

    def lookup(self, idempotency_key: str) -> CallReport | None:
        return None

    def hangup(self, carrier_call_id: str) -> None:
        raise TelephonyError(f"{self.name} carrier unavailable: {self.reason}")

    def completed_reports(self) -> list[CallReport]:
        return []


class CarrierRouter:
    """Routes each dial to its from-number's carrier; `default` serves numbers not on record.

    `name` is the dispatcher's pacing bucket: one carrier-rate setting covers the account.
    """

    def __init__(
        self,
        carriers: Mapping[CarrierKind, TelephonyProvider],
        *,
        default: CarrierKind,
        numbers: Callable[[], NumberCarriers],
        clock: Clock,
        refresh_every: timedelta = timedelta(minutes=1),
        name: str | None = None,
    ) -> None:
        if default not in carriers:
            raise ValueError(f"the default carrier {default} is not among the carriers")
        self._carriers = dict(carriers)
        self._default = default
        self._numbers_source = numbers
        self._clock = clock
        self._refresh_every = refresh_every
        self.name = name or carriers[default].name
        self._numbers = NumberCarriers()
        self._loaded_at = clock.now()
        self._by_key: dict[str, CarrierKind] = {}
        self._by_call: dict[str, CarrierKind] = {}
        self.refresh()

    def refresh(self) -> None:
        """Read the numbers' carriers again (TelephonyError if the database cannot say)."""
        try:
            self._numbers = self._numbers_source()
        except SQLAlchemyError as exc:
            raise TelephonyError(f"cannot read the phone numbers' carriers: {exc}") from exc
        self._loaded_at = self._clock.now()

    def carrier_for(self, from_e164: str, account_id: int | None = None) -> CarrierKind:
        age = self._clock.now() - self._loaded_at
        new_number = bool(from_e164) and self._numbers.carrier_of(from_e164, account_id) is None
        if age >= self._refresh_every or (new_number and age >= _NEW_NUMBER_REFRESH):
            self.refresh()
        return self._numbers.carrier_of(from_e164, account_id) or self._default

    def dial(self, request: DialRequest) -> DialReceipt:
        kind = self.carrier_for(request.from_e164, request.account_id)
        receipt = self._carrier(kind).dial(request)
        self._remember(kind, request.idempotency_key, receipt.carrier_call_id)
        return receipt

    def dial_many(self, requests: Sequence[DialRequest]) -> list[DialReceipt]:
        """One batch per carrier (a carrier without batches dials one by one). Any error is
        raised: the dispatcher then dials each request alone, and every dial is idempotent."""
        groups: dict[CarrierKind, list[int]] = {}
        for i, request in enumerate(requests):
            groups.setdefault(self.carrier_for(request.from_e164, request.account_id), []).append(i)
        receipts: dict[int, DialReceipt] = {}
        for kind, indexes in groups.items():
            carrier = self._carrier(kind)
            batch = [requests[i] for i in indexes]
            if isinstance(carrier, BatchDialer) and len(batch) > 1:
                got = carrier.dial_many(batch)
            else:
                got = [carrier.dial(request) for request in batch]
            for i, receipt in zip(indexes, got, strict=True):
                receipts[i] = receipt
                self._remember(kind, requests[i].idempotency_key, receipt.carrier_call_id)
        return [receipts[i] for i in range(len(requests))]

    def lookup(self, idempotency_key: str) -> CallReport | None:
        """The call under the key, from the carrier that dialed it or, after a restart, from the
        first carrier that knows it. A carrier that cannot answer makes the answer unknown."""
        known = self._by_key.get(idempotency_key)
        order = [known] if known is not None else []
        order += [kind for kind in self._carriers if kind != known]
        failure: TelephonyError | None = None
        for kind in order:
            try:
                report = self._carriers[kind].lookup(idempotency_key)
            except TelephonyError as exc:
                failure = exc
                continue
            if report is not None:
                self._remember(kind, idempotency_key, report.carrier_call_id)
                return report
        if failure is not None:
            raise failure
        return None

    def hangup(self, carrier_call_id: str) -> None:
        known = self._by_call.get(carrier_call_id)
        if known is not None:
            self._carriers[known].hangup(carrier_call_id)
            return
        failure: TelephonyError | None = None
        for carrier in self._carriers.values():
            try:
                carrier.hangup(carrier_call_id)
                return
            except TelephonyError as exc:
                failure = exc
        raise failure or TelephonyError(f"no carrier knows call {carrier_call_id!r}")

    def completed_reports(self) -> list[CallReport]:
        """Every carrier's reports. One carrier failing does not hold back the others' (its
        calls stay pending with it and are reported at a later sweep)."""
        reports: list[CallReport] = []
        for kind, carrier in self._carriers.items():
            try:
                reports.extend(carrier.completed_reports())
            except Exception:  # TelephonyError, or a bug: the other carriers still report
                log.exception("%s carrier: completed reports unavailable", kind)
        for report in reports:
            self._by_key.pop(report.idempotency_key, None)
            self._by_call.pop(report.carrier_call_id, None)
        return reports

    def close(self) -> None:
        """Close the carriers that hold something open (the SIP endpoint and its calls)."""
        for kind, carrier in self._carriers.items():
            close = getattr(carrier, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    log.exception("%s carrier did not close cleanly", kind)

    def _carrier(self, kind: CarrierKind) -> TelephonyProvider:
        carrier = self._carriers.get(kind)
        if carrier is None:
            raise TelephonyError(f"no {kind} carrier is set up in this worker")
        return carrier

    def _remember(self, kind: CarrierKind, key: str, carrier_call_id: str) -> None:
        self._by_key[key] = kind
        self._by_call[carrier_call_id] = kind


if TYPE_CHECKING:  # mypy proves both keep the carrier contract (and the router batches)

    def _conforms(router: CarrierRouter, off: UnavailableCarrier) -> list[TelephonyProvider]:
        return [router, off]

    def _batches(router: CarrierRouter) -> BatchDialer:
        return router
