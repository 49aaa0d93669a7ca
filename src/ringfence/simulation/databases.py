"""Throw-away databases for simulations and benchmarks: a temporary SQLite file, or a freshly
created database on a PostgreSQL server (dropped afterwards)."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


@contextmanager
def scratch_database(server_url: str | None, *, keep: bool = False) -> Iterator[str]:
    """Yield the URL of an empty database.

    `server_url` None: a SQLite file in a temporary folder. A PostgreSQL URL names the server
    (and a database to connect to for administration): a new database is created beside it.
    A SQLite URL is used as given (it must be empty; the caller checks).
    """
    if server_url is None:
        folder = Path(tempfile.mkdtemp(prefix="ringfence-sim-"))
        try:
            yield f"sqlite:///{folder / 'simulation.db'}"
        finally:
            if not keep:
                shutil.rmtree(folder, ignore_errors=True)
        return
    url = make_url(server_url)
    if not url.drivername.startswith("postgresql"):
        yield server_url
        return
    name = f"ringfence_sim_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
