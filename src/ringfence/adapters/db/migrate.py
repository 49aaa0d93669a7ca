"""Alembic, driven from code: `ringfence db upgrade` / `downgrade` and the tests use the same
path."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from ringfence.adapters.db.engine import READ_ONLY

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would eat '%' in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at `engine` to `revision` (default: the newest)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database at `engine` back to `revision` (before rolling the code back: the
    older code knows only the older schema)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def revisions(engine: Engine) -> tuple[frozenset[str], frozenset[str]]:
    """(The database's current revisions, the migration scripts' heads): equal when the
    schema is up to date. Reads `alembic_version` only; raises SQLAlchemyError when the
    database cannot be reached."""
    # Read directly, not through alembic's MigrationContext: that logs two INFO lines a call,
    # and readiness probes call this every few seconds.
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        current = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return frozenset(current), script_heads()


@functools.cache
def script_heads() -> frozenset[str]:
    """The newest revisions of the shipped migration scripts (read once per process: they
    do not change under a running process)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(script.get_heads())
