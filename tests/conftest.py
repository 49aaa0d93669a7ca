"""Shared fixtures: a real database (SQLite by default, PostgreSQL when asked), a virtual clock.

Set RINGFENCE_TEST_DATABASE_URL to a PostgreSQL URL (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the suite on PostgreSQL: the tests
create their own uniquely named database on that server and drop it afterwards, so parallel
runs never collide. Without it, every run gets a fresh SQLite file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

# Background threads of some tests (recording renderers, speech engines) import numpy lazily.
# pytest.approx inspects sys.modules["numpy"], and while another thread is still importing
# it that entry is a partially initialized module: import it once, up front, so no test can
# observe it half-made. (Python's import lock makes this safe for the code itself.)
with contextlib.suppress(ImportError):  # numpy comes with the optional speech extra
    import numpy  # noqa: F401

# Rich sizes tables and wraps lines to the terminal's width (COLUMNS): fix it, so the CLI
# tests read the same output in a narrow CI log as in a wide terminal.
os.environ["COLUMNS"] = "160"
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text

from ringfence.adapters.db.engine import make_engine
from ringfence.adapters.db.migrate import upgrade
from ringfence.adapters.db.orm import Account, Location
from ringfence.adapters.db.schema import metadata
from ringfence.bootstrap import Container, bootstrap
from ringfence.clock import VirtualClock
from ringfence.config import Settings
from ringfence.domain.vocabulary import KycStatus
from ringfence.entrypoints.asgi import create_app
from ringfence.services.api_keys import create_api_key

START = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="session", autouse=True)
def secret_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the apps under test keep their generated web secret key: a temporary file, not
    var/secret.key in the working tree (servers started as subprocesses inherit it too)."""
    path = tmp_path_factory.mktemp("secret") / "secret.key"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RINGFENCE_SECRET_KEY_FILE", str(path))
        patch.delenv("RINGFENCE_SECRET_KEY", raising=False)
        yield path


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("RINGFENCE_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'ringfence-test.db'}"
        return
    url = make_url(base)
    name = f"ringfence_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


# The sequences behind the tables' identity and serial columns (what TRUNCATE ... RESTART
# IDENTITY would restart), so ids start at 1 in every test on PostgreSQL as they do on SQLite.
_OWNED_SEQUENCES = text(
    "SELECT s.oid::regclass::text FROM pg_class s"
    " JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass"
    " AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
    " WHERE s.relkind = 'S'"
)


def _wipe(engine: Engine) -> None:
    """Empty every table, children first. On PostgreSQL, DELETE and setval rather than
    TRUNCATE ... RESTART IDENTITY CASCADE: a test's few rows go in ~4 ms, where TRUNCATE's
    per-table cost (new files, locks) is ~95 ms, about two minutes over the suite."""
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))
        if engine.dialect.name == "postgresql":
            sequences = conn.execute(_OWNED_SEQUENCES).scalars().all()
            if sequences:
                calls = ", ".join(f"setval('{name}', 1, false)" for name in sequences)
                conn.execute(text(f"SELECT {calls}"))


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def container(
    migrated_engine: Engine, database_url: str, clock: VirtualClock
) -> Iterator[Container]:
    _wipe(migrated_engine)
    # Forms are posted at once on a frozen clock: the fill-time check is tested on its own.
    built = bootstrap(
        Settings(database_url=database_url, public_form_min_fill_seconds=0), clock=clock
    )
    yield built
    built.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


@dataclass(frozen=True)
class Tenant:
    account_id: int
    location_id: int
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def make_tenant(container: Container, name: str, *, time_zone: str = "America/New_York") -> Tenant:
    with container.uow() as uow:
        now = uow.clock.now()
        account = Account(
            name=name,
            kyc_status=KycStatus.APPROVED,
            outbound_enabled=True,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(account)
        uow.session.flush()
        location = Location(
            account_id=account.id,
            name=f"{name} main",
            time_zone=time_zone,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(location)
        uow.session.flush()
        _key, plaintext = create_api_key(uow.session, account_id=account.id, name="test", now=now)
        tenant = Tenant(account_id=account.id, location_id=location.id, api_key=plaintext)
        uow.commit()
    return tenant


@pytest.fixture
def tenant(container: Container) -> Tenant:
    return make_tenant(container, "Glow Aesthetics")


@pytest.fixture
def other_tenant(container: Container) -> Tenant:
    return make_tenant(container, "Rival Derm", time_zone="America/Los_Angeles")
