"""Alembic environment: runs migrations on the connection ``fintropy.persistence.migrate`` passes.

Online mode only. Concurrent upgrades (a worker and the bot service starting together) are
serialised by a transaction-scoped advisory lock taken before Alembic reads its version table.
"""

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import fintropy.persistence.models  # noqa: F401  (registers the tables on SQLModel.metadata)

MIGRATION_LOCK_KEY = 7_164_522_001  # arbitrary, fixed: "fintropy migrations"

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through fintropy.persistence.migrate.upgrade(database_url), "
        "which supplies the connection"
    )

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    transaction_per_migration=False,
    compare_server_default=False,
)
with context.begin_transaction():
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    context.run_migrations()
