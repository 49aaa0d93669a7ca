"""What every `ringfence` sub-command shares: the container, opened and closed around it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ringfence.bootstrap import Container, bootstrap
from ringfence.config import Settings


@contextmanager
def open_container() -> Iterator[Container]:
    # Disposing the engine closes pooled connections before the process (or test) moves on.
    container = bootstrap(Settings())
    try:
        yield container
    finally:
        container.close()
