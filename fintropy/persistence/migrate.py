"""Run the Alembic migrations programmatically: no alembic.ini, scripts inside the package.

``upgrade`` is idempotent and safe to call from every process at start-up; concurrent callers
wait for each other on an advisory lock (see ``migrations/env.py``). It must connect as a role
that owns the schema and may create roles (the migrations create ``fintropy_app``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from fintropy.persistence.db import normalize_url

logger = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return config


def _owner_engine(database_url: str) -> Engine:
    # The owner's own engine: no SET ROLE hook, since migrations create that role.
    return create_engine(normalize_url(database_url), poolclass=NullPool)


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` up to ``revision`` (default: the latest)."""
    engine = _owner_engine(database_url)
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        engine.dispose()
    logger.info("database migrated", extra={"revision": revision})


def downgrade(database_url: str, revision: str) -> None:
    """Revert the database to ``revision`` (``"base"`` drops every Fintropy table)."""
    engine = _owner_engine(database_url)
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def current_revision(database_url: str) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = _owner_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The latest revision shipped with this package."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration scripts found under {SCRIPT_LOCATION}")
    return head
