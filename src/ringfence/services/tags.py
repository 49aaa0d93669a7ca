"""Tags: one name per tag within an account, and the "Opted Out" tag kept by the opt-out
ledger (it cannot be renamed, deleted or imitated)."""

from __future__ import annotations

from typing import TypedDict

from ringfence.adapters.db.orm import Tag
from ringfence.domain.tags import OPT_OUT_TAG, reserved_name_problem
from ringfence.services.errors import Conflict, InvalidField
from ringfence.services.unit_of_work import AbstractUnitOfWork, TenantScope


class TagChanges(TypedDict, total=False):
    """The fields of a tag that change (a key present with None would clear it: refused)."""

    name: str | None


def create_tag(*, uow: AbstractUnitOfWork, scope: TenantScope, name: str) -> Tag:
    """A new tag of the caller's account; committed. Creating "Opted Out" under its exact name
    is allowed (it starts empty, and the ledger adds it to contacts)."""
    _ensure_not_reserved(name, exact_allowed=True)
    _ensure_name_free(uow, scope, name)
    now = uow.clock.now()
    tag = Tag(account_id=scope.account_id, name=name, created_at=now, updated_at=now)
    uow.tags.add(tag)
    uow.commit()
    return tag


def update_tag(
    *, uow: AbstractUnitOfWork, scope: TenantScope, tag_id: int, changes: TagChanges
) -> Tag:
    """Rename a tag; committed."""
    tag = uow.tags.owned(scope, tag_id)
    if "name" in changes:
        name = changes["name"]
        if name is None:
            raise InvalidField("name", "may not be null")
        if name != tag.name:
            if tag.name == OPT_OUT_TAG:
                # Renaming it would leave every suppressed number's contacts looking callable.
                raise InvalidField(
                    "name",
                    f'"{OPT_OUT_TAG}" mirrors the numbers that opted out at this practice and '
                    "cannot be renamed",
                )
            _ensure_not_reserved(name, exact_allowed=False)
            _ensure_name_free(uow, scope, name)
        tag.name = name
    tag.updated_at = uow.clock.now()
    uow.commit()
    return tag


def delete_tag(*, uow: AbstractUnitOfWork, scope: TenantScope, tag_id: int) -> None:
    """Delete a tag (it comes off its contacts); committed. Never "Opted Out"."""
    tag = uow.tags.owned(scope, tag_id)
    if tag.name == OPT_OUT_TAG:
        raise Conflict(
            f'"{OPT_OUT_TAG}" mirrors the numbers that opted out at this practice and cannot be '
            "deleted; only new consent for a number takes it off that number's contacts"
        )
    uow.tags.delete(tag)
    uow.commit()


def _ensure_name_free(uow: AbstractUnitOfWork, scope: TenantScope, name: str) -> None:
    if uow.tags.named(scope, [name]):
        raise Conflict(f"name: a tag called {name!r} already exists")


def _ensure_not_reserved(name: str, *, exact_allowed: bool) -> None:
    problem = reserved_name_problem(name, exact_allowed=exact_allowed)
    if problem is not None:
        raise InvalidField("name", problem)
