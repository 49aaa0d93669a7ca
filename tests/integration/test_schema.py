"""The Alembic migrations and the SQLAlchemy models describe the same schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text

from ringfence.adapters.db.engine import READ_ONLY
from ringfence.adapters.db.orm import Account
from ringfence.adapters.db.schema import metadata
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import KycStatus


def test_migrations_match_the_models(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_datetimes_come_back_aware_utc(container: Container) -> None:
    eastern = timezone(timedelta(hours=-5))
    stamped = datetime(2026, 11, 26, 10, 30, tzinfo=eastern)
    with container.uow() as uow:
        uow.session.add(
            Account(name="A", kyc_status=KycStatus.APPROVED, created_at=stamped, updated_at=stamped)
        )
        uow.commit()
    with container.uow() as uow:
        account = uow.session.scalars(select(Account)).one()
        assert account.created_at == datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
        assert account.created_at.tzinfo is not None
        assert account.kyc_status is KycStatus.APPROVED
        assert account.outbound_enabled is False


def test_naive_datetimes_are_refused(container: Container) -> None:
    with container.uow() as uow:
        uow.session.add(Account(name="A", created_at=datetime(2026, 1, 1), updated_at=None))
        with pytest.raises(Exception, match="naive datetime"):
            uow.session.flush()


def test_a_read_only_unit_of_work_lets_writers_through_on_sqlite(
    container: Container,
) -> None:
    """A long read (the CSV export) must not hold SQLite's write lock: others keep writing."""
    if container.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL reads never take the write lock")
    with container.uow() as reader:
        reader.session.connection(execution_options={READ_ONLY: True})
        reader.session.execute(text("SELECT count(*) FROM accounts")).scalar()
        with container.engine.connect() as writer:
            writer.execute(text("PRAGMA busy_timeout = 1"))
            writer.execute(text("UPDATE accounts SET name = name"))  # would time out if locked
            writer.commit()
