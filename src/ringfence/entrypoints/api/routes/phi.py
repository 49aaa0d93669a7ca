"""The PHI access log over the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement

from ringfence.adapters.db.phi import PhiAccess
from ringfence.entrypoints.api.crud import list_page
from ringfence.entrypoints.api.deps import (
    Scope,
)
from ringfence.entrypoints.api.schemas.common import Page
from ringfence.entrypoints.api.schemas.phi import PhiAccessOut, PhiAccessQuery
from ringfence.entrypoints.deps import (
    Uow,
)

router = APIRouter(tags=["account"])


@router.get(
    "/phi-access-log",
    response_model=Page[PhiAccessOut],
    summary="Who read which recording or transcript",
)
def list_phi_access(
    uow: Uow, scope: Scope, query: Annotated[PhiAccessQuery, Query()]
) -> Page[PhiAccessOut]:
    """Every read of a call's recording or transcript, oldest first: through the API (the
    API key's name), a staff member's dashboard drawer (`web`), or a share link made with
    recordings and transcripts (`share`, the link's id). Append-only."""
    clauses: list[ColumnElement[bool]] = []
    if query.job_id is not None:
        clauses.append(PhiAccess.job_id == query.job_id)
    if query.what is not None:
        clauses.append(PhiAccess.what == query.what)
    if query.via is not None:
        clauses.append(PhiAccess.via == query.via)
    rows, next_cursor = list_page(uow.session, PhiAccess, scope, clauses, query)
    return Page[PhiAccessOut](
        items=[PhiAccessOut.model_validate(r) for r in rows], next_cursor=next_cursor
    )
