"""Engines and sessions, with tenant isolation enforced by PostgreSQL Row-Level Security.

How isolation works:

- Every engine from ``create_engine_for`` runs ``SET ROLE fintropy_app`` on each new
  connection. That role is NOSUPERUSER NOBYPASSRLS, and every tenant table has FORCE ROW LEVEL
  SECURITY with the policy ``tenant_id = current_setting('fintropy.tenant_id', true)``.
- ``tenant_session`` sets ``fintropy.tenant_id`` with ``set_config(..., true)`` right after each
  BEGIN, so the setting lives exactly as long as the transaction: a commit or a rollback
  clears it, and a pooled connection never carries one tenant into the next unit of work.
- A query on a connection with no tenant set matches no row, and a write of another tenant's
  row is refused by the engine (``new row violates row-level security policy``).

``admin_session`` is the one way around this: it runs as the role the URL logs in with (the
schema owner). It is for migrations, tenant provisioning and operator tools only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from fintropy.errors import ConfigError

if TYPE_CHECKING:
    from fintropy.settings import Settings

logger = logging.getLogger(__name__)

APP_ROLE = "fintropy_app"
TENANT_SETTING = "fintropy.tenant_id"
_TENANT_KEY = "fintropy_tenant_id"
_ADMIN_KEY = "fintropy_admin"
_embedded_server: Any = None


def normalize_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver (``postgres://`` and ``postgresql://`` accepted)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            f"DATABASE_URL must point at PostgreSQL, not {parsed.get_backend_name()!r}.",
            "Use a URL such as postgresql+psycopg://user@host:5432/dbname, or unset "
            "DATABASE_URL to use the embedded server.",
        )
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def create_engine_for(url: str, *, app_role: bool = True, **kwargs: Any) -> Engine:
    """Create an engine whose connections act as ``fintropy_app`` (unless ``app_role=False``).

    ``kwargs`` go to ``sqlalchemy.create_engine`` (pool sizes, ``echo``...).
    """
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(normalize_url(url), **kwargs)
    if app_role:
        event.listen(engine, "connect", _assume_app_role)
    return engine


def _assume_app_role(dbapi_connection: Any, _record: Any) -> None:
    import psycopg

    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {APP_ROLE}")
        # Commit, or the pool's reset-on-return rollback would undo the SET ROLE.
        dbapi_connection.commit()
    except psycopg.Error as exc:
        dbapi_connection.rollback()
        raise ConfigError(
            f"Cannot act as the database role {APP_ROLE!r}: {exc.diag.message_primary}.",
            "Run the migrations first (fintropy.persistence.migrate.upgrade, or `fintropy db "
            "upgrade`) with a user that may create roles, and connect as that user.",
        ) from exc


class TenantSession(Session):
    """A session whose every transaction is scoped to one tenant (see ``tenant_session``)."""


class AdminSession(Session):
    """A session that acts as the login role, bypassing the app role (see ``admin_session``)."""


@event.listens_for(TenantSession, "after_begin")
def _scope_transaction(session: Session, _transaction: Any, connection: Any) -> None:
    # Runs right after every BEGIN, including the ones after an explicit commit inside the block.
    connection.execute(
        text("SELECT set_config(:name, :tenant, true)"),
        {"name": TENANT_SETTING, "tenant": session.info[_TENANT_KEY]},
    )


@event.listens_for(AdminSession, "after_begin")
def _act_as_login_role(session: Session, _transaction: Any, connection: Any) -> None:
    # LOCAL: at commit or rollback the connection returns to fintropy_app for the next user.
    connection.execute(text("SET LOCAL ROLE NONE"))


@contextmanager
def tenant_session(engine: Engine, tenant_id: str) -> Iterator[Session]:
    """Open a unit of work for one tenant: commit on success, roll back on any error.

    Objects read inside stay usable after the block (``expire_on_commit=False``).
    """
    if not isinstance(tenant_id, str) or not tenant_id:
        raise ValueError(f"tenant_session needs a non-empty tenant id, got {tenant_id!r}")
    session = TenantSession(engine, expire_on_commit=False, info={_TENANT_KEY: tenant_id})
    with _unit_of_work(session) as scoped:
        yield scoped


@contextmanager
def admin_session(engine: Engine) -> Iterator[Session]:
    """Open a unit of work as the login (owner) role. BYPASSES the app role and its grants.

    When the login role is a superuser (as in tests and the embedded server) it also bypasses
    Row-Level Security entirely: it sees and can change every tenant's rows, including the
    audit ledger. Use it only for migrations, tenant provisioning and operator tooling; never
    for work done on behalf of a chat user.
    """
    session = AdminSession(engine, expire_on_commit=False, info={_ADMIN_KEY: True})
    with _unit_of_work(session) as scoped:
        yield scoped


@contextmanager
def _unit_of_work(session: Session) -> Iterator[Session]:
    try:
        session.connection()  # BEGIN now, so the after_begin hook runs before any query
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def resolve_database_url(settings: Settings) -> str:
    """Return ``DATABASE_URL`` (normalised), or start the embedded server and return its URL.

    The embedded server (PyPI ``pgserver``) keeps its data in ``<data_dir>/pgdata`` and listens
    on a Unix socket only; it stops when the last process using it exits. Running as root,
    pgserver creates a ``pgserver`` system user to own the data folder.
    """
    if settings.database_url:
        return normalize_url(settings.database_url)
    return _start_embedded_server(Path(settings.data_dir))


def _start_embedded_server(data_dir: Path) -> str:
    global _embedded_server
    if _embedded_server is None:
        data_dir.mkdir(parents=True, exist_ok=True)

        # pgserver keeps its lock file in the user runtime folder; without XDG_RUNTIME_DIR,
        # platformdirs warns and guesses. Give it a private folder of ours instead.
        if not os.environ.get("XDG_RUNTIME_DIR"):
            runtime = data_dir / "run"
            runtime.mkdir(mode=0o700, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        import pgserver

        _embedded_server = pgserver.get_server(data_dir / "pgdata", cleanup_mode="stop")
        logger.info("embedded postgres started", extra={"path": str(data_dir / "pgdata")})
    return normalize_url(_embedded_server.get_uri())


def stop_embedded_server() -> None:
    """Stop the embedded server started by this process, if any (it also stops at exit)."""
    global _embedded_server
    if _embedded_server is not None:
        _embedded_server.cleanup()
        _embedded_server = None
