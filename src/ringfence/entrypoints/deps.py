"""Request dependencies every entrypoint shares: the container and a unit of work.

The API (bearer keys, `api/deps.py`) and the web pages (sessions, `web/deps.py`) each add their
own way of knowing who is asking on top of these, and import only this module, not each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from ringfence.bootstrap import Container
from ringfence.services.unit_of_work import UnitOfWork


def container_of(request: Request) -> Container:
    """The container, for a dependency or route that has the request anyway: FastAPI spends
    work on every sub-dependency of every request, cached or not (docs/operations.md, "Event
    ingestion", third pass)."""
    container: Container = request.app.state.container
    return container


async def get_container(request: Request) -> Container:
    # async: FastAPI runs a plain `def` dependency in the thread pool, a trip that costs more
    # than this attribute read (every route takes it).
    return container_of(request)


ContainerDep = Annotated[Container, Depends(get_container)]


def get_uow(container: ContainerDep) -> Iterator[UnitOfWork]:
    with container.uow() as uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(get_uow)]
