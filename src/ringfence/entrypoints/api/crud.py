"""A typed CRUD router factory for the many plain record resources of the CRM.

Each resource declares its row type, its schemas and the use cases behind its writes; the
factory supplies the five routes with tenant scoping, cursor paging and field-named errors.
The routes only translate: the use cases own the transaction (they commit), and business rules
stay in `services/` (`contacts.py`, `tags.py`, `locations.py`, `caller_ids.py`, `agents.py`,
`forms.py`, `contact_records.py`); a plain PATCH or delete with no rule behind it goes through
`services/records.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ringfence.entrypoints.api.deps import (
    Scope,
)
from ringfence.entrypoints.api.schemas.common import ListQuery, Page, decode_cursor, encode_cursor
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.services import records
from ringfence.services.errors import InvalidField
from ringfence.services.fields import apply_fields
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

RowT = TypeVar("RowT")
CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)
QueryT = TypeVar("QueryT", bound=ListQuery)

RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@dataclass(frozen=True, kw_only=True)
class Resource(Generic[RowT, CreateT, UpdateT, QueryT]):
    path: str
    tag: str
    row_type: type[RowT]
    out: type[BaseModel]
    create_body: type[CreateT]
    update_body: type[UpdateT] | None
    query: type[QueryT]
    # The writes are use cases: each commits (or refuses and writes nothing) by itself.
    create: Callable[[UnitOfWork, TenantScope, CreateT], RowT]
    # (uow, scope, row id, body) -> the changed row; None: the body's fields are set as given.
    update: Callable[[UnitOfWork, TenantScope, int, UpdateT], RowT] | None = None
    # (uow, scope, row id); None: the row is deleted as it is.
    delete: Callable[[UnitOfWork, TenantScope, int], None] | None = None
    filters: Callable[[QueryT], Sequence[ColumnElement[bool]]] = lambda _q: ()
    deletable: bool = True
    description: str = field(default="")


def default_update(uow: UnitOfWork, _scope: TenantScope, row: Any, body: BaseModel) -> None:
    apply_fields(row, body.model_dump(exclude_unset=True))
    row.updated_at = uow.clock.now()


def ruled_update(
    row_type: type[RowT], rule: Callable[[UnitOfWork, TenantScope, RowT, UpdateT], None]
) -> Callable[[UnitOfWork, TenantScope, int, UpdateT], RowT]:
    """An update use case from a change of the row: `records.update` finds the caller's row,
    lets `rule` change it and commits."""

    def update(uow: UnitOfWork, scope: TenantScope, row_id: int, body: UpdateT) -> RowT:
        return records.update(
            uow=uow,
            scope=scope,
            model=row_type,
            row_id=row_id,
            change=lambda row: rule(uow, scope, row, body),
        )

    return update


def list_page(
    session: Session,
    row_type: type[RowT],
    scope: TenantScope,
    clauses: Sequence[ColumnElement[bool]],
    query: ListQuery,
) -> tuple[list[RowT], str | None]:
    """One page in id order, tenant-filtered, plus the cursor of the next page."""
    id_col = getattr(row_type, "id")  # noqa: B009 - generic over mapped classes
    stmt = select(row_type).where(getattr(row_type, "account_id") == scope.account_id, *clauses)  # noqa: B009
    if query.cursor is not None:
        try:
            stmt = stmt.where(id_col > decode_cursor(query.cursor))
        except ValueError as exc:
            raise InvalidField("cursor", str(exc)) from exc
    rows = list(session.scalars(stmt.order_by(id_col).limit(query.limit + 1)))
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_cursor = encode_cursor(cast(int, getattr(rows[-1], "id")))  # noqa: B009
    return rows, next_cursor


def build_router(resource: Resource[Any, Any, Any, Any]) -> APIRouter:
    """The list/create/read/update/delete routes for one resource."""
    router = APIRouter(prefix=resource.path, tags=[resource.tag])
    out = resource.out
    update = resource.update or ruled_update(resource.row_type, default_update)
    noun = resource.path.strip("/").replace("-", " ")

    def list_items(uow: Uow, scope: Scope, query: Any) -> Any:
        rows, next_cursor = list_page(
            uow.session, resource.row_type, scope, resource.filters(query), query
        )
        return {"items": [out.model_validate(r) for r in rows], "next_cursor": next_cursor}

    list_items.__annotations__["query"] = Annotated[resource.query, Query()]
    router.add_api_route(
        "",
        list_items,
        methods=["GET"],
        response_model=Page[out],  # type: ignore[valid-type]  # runtime-parametrised generic
        summary=f"List {noun}",
        description="Cursor-paginated, oldest first. Filters combine with AND.",
    )

    def create_item(uow: Uow, scope: Scope, body: Any) -> Any:
        return out.model_validate(resource.create(uow, scope, body))

    create_item.__annotations__["body"] = resource.create_body
    router.add_api_route(
        "",
        create_item,
        methods=["POST"],
        response_model=out,
        status_code=status.HTTP_201_CREATED,
        summary=f"Create one of {noun}",
        description=resource.description,
    )

    def read_item(uow: Uow, scope: Scope, item_id: RowId) -> Any:
        return out.model_validate(get_owned(uow.session, resource.row_type, item_id, scope))

    router.add_api_route(
        "/{item_id}", read_item, methods=["GET"], response_model=out, summary=f"Read one of {noun}"
    )

    if resource.update_body is not None:

        def update_item(uow: Uow, scope: Scope, item_id: RowId, body: Any) -> Any:
            return out.model_validate(update(uow, scope, item_id, body))

        update_item.__annotations__["body"] = resource.update_body
        router.add_api_route(
            "/{item_id}",
            update_item,
            methods=["PATCH"],
            response_model=out,
            summary=f"Change one of {noun}",
            description="Only the fields present in the body change.",
        )

    if resource.deletable:

        def delete_item(uow: Uow, scope: Scope, item_id: RowId) -> None:
            if resource.delete is not None:
                resource.delete(uow, scope, item_id)
            else:
                records.delete(uow=uow, scope=scope, model=resource.row_type, row_id=item_id)

        router.add_api_route(
            "/{item_id}",
            delete_item,
            methods=["DELETE"],
            status_code=status.HTTP_204_NO_CONTENT,
            summary=f"Delete one of {noun}",
        )
    return router
