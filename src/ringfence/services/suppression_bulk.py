"""Suppress many numbers at once (a contact import with thousands of opted-out rows).

`suppression.suppress_number` takes one advisory lock per number and writes row by row; an
import of 15,000 "Opted Out" rows would hold 15,000 transaction-scoped locks, which exhausts
PostgreSQL's shared lock table (`max_locks_per_transaction`) and fails the import. Here the
writer takes one **exclusive account-wide** advisory lock instead; the dispatcher takes the
same key **shared** (a try-lock) before its per-number locks, so while a bulk write is under
way it leaves that account's calls for the next tick rather than deciding on numbers that are
about to be suppressed. Everything else is set-based: a few queries per 500 numbers.

The rules are the single-number writer's: an entry is stamped just past the newest consent on
file for its number; every contact of the account with the number gets the "Opted Out" tag;
their queued and deferred calls are canceled and they leave every workflow. One difference,
on purpose: a number whose suppression is **already in force** is left as it is. Re-importing
the same file must not move the stamp forward, which would make consent recorded in between
look older than the opt-out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Executable, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.orm import Contact, NumberSuppression, Tag, contact_tags
from ringfence.adapters.db.workflows import Enrollment
from ringfence.domain.calls import PENDING
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.compliance.gate import consent_in_force
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.services import audit
from ringfence.services.call_jobs import cancel_pending
from ringfence.services.dispatch_queries import account_lock_key
from ringfence.services.facts import consent_facts
from ringfence.services.suppression import as_fact
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows.exits import exit_where

_CHUNK = 500
_AFTER = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class BulkSuppressed:
    written: int  # entries created or moved forward
    already_in_force: int  # numbers left as they were
    canceled_calls: int


@dataclass(frozen=True, slots=True)
class _Number:
    id: int
    account_id: int
    phone_e164: str | None


def lock_account(session: Session, account_id: int) -> None:
    """Exclusive account-wide lock for a bulk writer (PostgreSQL; SQLite serializes writers)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": account_lock_key(account_id)}
        )


def suppress_numbers(
    session: Session,
    scope: TenantScope,
    opted_out: Mapping[str, int | None],
    *,
    at: datetime,
    source: SuppressionSource,
    note: str,
) -> BulkSuppressed:
    """Suppress every number of `opted_out` (number -> the contact whose record carried the
    opt-out) at the account from `at` on, unless already in force; audited per entry."""
    if not opted_out:
        return BulkSuppressed(0, 0, 0)
    lock_account(session, scope.account_id)
    written = kept = 0
    for phones in _chunks(opted_out):
        numbers = [_Number(-(i + 1), scope.account_id, p) for i, p in enumerate(phones)]
        facts = consent_facts(session, numbers)
        entries = {
            e.phone_e164: e
            for e in session.scalars(
                select(NumberSuppression).where(
                    NumberSuppression.account_id == scope.account_id,
                    NumberSuppression.phone_e164.in_(phones),
                )
            )
        }
        fresh: list[dict[str, object]] = []
        changes: list[tuple[str, datetime, dict[str, object] | None]] = []
        for number in numbers:
            phone = number.phone_e164 or ""
            fact = facts[number.id]
            entry = entries.get(phone)
            newest = fact.newest_opt_in_on_file
            # Left alone only if in force (the gate's own answer) and already stamped past
            # every consent on file, future-stamped ones included (another worker's clock ran
            # ahead): otherwise such a consent would lift the opt-out once its time comes.
            current = as_fact(entry)
            if (
                current is not None
                and current.in_force(consent_in_force(fact, at))
                and (newest is None or newest <= current.at)
            ):
                kept += 1
                continue
            stamp = at if newest is None or newest < at else newest + _AFTER
            written += 1
            before: dict[str, object] | None = (
                None if entry is None else {"suppressed_at": entry.suppressed_at.isoformat()}
            )
            if entry is None:
                fresh.append(
                    {
                        "account_id": scope.account_id,
                        "phone_e164": phone,
                        "suppressed_at": stamp,
                        "source": source.value,
                        "contact_id": opted_out[phone],
                        "note": note,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            else:
                entry.suppressed_at, entry.source = stamp, source.value
                entry.contact_id, entry.note, entry.updated_at = opted_out[phone], note, at
            changes.append((phone, stamp, before))
        if fresh:
            _insert_new(session, fresh)
        session.flush()
        ids: dict[str, int] = dict(
            session.execute(
                select(NumberSuppression.phone_e164, NumberSuppression.id).where(
                    NumberSuppression.account_id == scope.account_id,
                    NumberSuppression.phone_e164.in_([phone for phone, _, _ in changes]),
                )
            ).all()
        )
        for phone, stamp, before in changes:
            _audit(session, scope, ids[phone], phone, stamp, source, opted_out[phone], before, at)
    session.flush()
    contact_ids = _tag_all(session, scope.account_id, list(opted_out), at)
    canceled = _cancel_and_exit(session, scope.account_id, contact_ids, at)
    return BulkSuppressed(written, kept, canceled)


def tag_suppressed(
    session: Session, account_id: int, contacts: Iterable[Contact], at: datetime
) -> int:
    """Tag those of `contacts` whose number is suppressed at the account (in force at `at`):
    the tag mirrors the ledger for contacts added after the opt-out. Returns how many."""
    by_phone = {c.phone_e164: c for c in contacts if c.phone_e164}
    tagged: list[str] = []
    for phones in _chunks(by_phone):
        entries = {
            e.phone_e164: e
            for e in session.scalars(
                select(NumberSuppression).where(
                    NumberSuppression.account_id == account_id,
                    NumberSuppression.phone_e164.in_(phones),
                )
            )
        }
        numbers = [_Number(-(i + 1), account_id, p) for i, p in enumerate(entries)]
        facts = consent_facts(session, numbers)
        for number in numbers:
            phone = number.phone_e164 or ""
            consent_at = consent_in_force(facts[number.id], at)
            entry = as_fact(entries[phone])
            if entry is not None and entry.in_force(consent_at):
                tagged.append(phone)
    if tagged:
        _tag_all(session, account_id, tagged, at)
    return len(tagged)


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _insert_new(session: Session, rows: list[dict[str, object]]) -> None:
    """Insert the new entries. Single-number writers take the account key shared, so on
    PostgreSQL none can write meanwhile; ON CONFLICT DO NOTHING is a guard, not a path."""
    dialect = session.get_bind().dialect.name
    keys = ["account_id", "phone_e164"]
    statement: Executable
    if dialect == "postgresql":
        statement = postgresql.insert(NumberSuppression).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        statement = sqlite.insert(NumberSuppression).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover - the two supported databases are above
        statement = insert(NumberSuppression)
    session.execute(statement, rows)


def _audit(
    session: Session,
    scope: TenantScope,
    entry_id: int,
    phone: str,
    stamp: datetime,
    source: SuppressionSource,
    contact_id: int | None,
    before: dict[str, object] | None,
    at: datetime,
) -> None:
    audit.record(
        session,
        scope,
        entity_type="number_suppression",
        entity_id=entry_id,
        action="number.suppressed",
        at=at,
        before=before,
        after={
            "phone_e164": phone,
            "suppressed_at": stamp.isoformat(),
            "source": source.value,
            "contact_id": contact_id,
            "bulk": True,
        },
    )


def _tag_all(session: Session, account_id: int, phones: list[str], at: datetime) -> list[int]:
    """Tag every contact of the account with one of `phones`; returns their ids."""
    tag_id = session.scalar(
        select(Tag.id).where(Tag.account_id == account_id, Tag.name == OPT_OUT_TAG)
    )
    if tag_id is None:
        tag = Tag(account_id=account_id, name=OPT_OUT_TAG, created_at=at, updated_at=at)
        session.add(tag)
        session.flush()
        tag_id = tag.id
    contact_ids: list[int] = []
    for chunk in _chunks(phones):
        ids = list(
            session.scalars(
                select(Contact.id).where(
                    Contact.account_id == account_id, Contact.phone_e164.in_(chunk)
                )
            )
        )
        tagged = set(
            session.scalars(
                select(contact_tags.c.contact_id).where(
                    contact_tags.c.tag_id == tag_id, contact_tags.c.contact_id.in_(ids)
                )
            )
        )
        missing = [{"contact_id": cid, "tag_id": tag_id} for cid in ids if cid not in tagged]
        if missing:
            session.execute(insert(contact_tags), missing)
        contact_ids.extend(ids)
    # Contacts loaded in this session would otherwise keep showing their old tag list.
    touched = set(contact_ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Contact) and obj.id in touched:
            session.expire(obj, ["tags"])
    return contact_ids


def _cancel_and_exit(
    session: Session, account_id: int, contact_ids: list[int], at: datetime
) -> int:
    """Cancel the pending calls of the contacts that have any, and take every one of them out
    of its workflows (one query per chunk finds who has something to cancel)."""
    canceled = 0
    for start in range(0, len(contact_ids), _CHUNK):
        chunk = contact_ids[start : start + _CHUNK]
        with_calls = sorted(
            set(
                session.scalars(
                    select(CallJob.contact_id).where(
                        CallJob.account_id == account_id,
                        CallJob.contact_id.in_(chunk),
                        CallJob.status.in_(PENDING),
                    )
                )
            )
        )
        for contact_id in with_calls:
            canceled += cancel_pending(
                session, account_id=account_id, now=at, reason="opted_out", contact_id=contact_id
            )
        exit_where(session, "the contact opted out", at, Enrollment.contact_id.in_(chunk))
    return canceled
