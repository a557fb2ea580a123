"""Migrations: from an empty database, idempotent, matching the models, isolation in place."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from fintropy import audit
from fintropy.persistence import migrate, repo
from fintropy.persistence.db import admin_session, create_engine_for, tenant_session
from fintropy.persistence.models import TENANT_TABLES
from tests.support.pg_fixtures import admin_url, make_tenant_spec


@contextmanager
def scratch_database(owner: str | None = None) -> Iterator[str]:
    """An empty database (owned by ``owner`` when given), dropped afterwards; yields its URL."""
    name = f"fintropy_scratch_{uuid.uuid4().hex[:10]}"
    server = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        suffix = f' OWNER "{owner}"' if owner else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    url = make_url(admin_url()).set(database=name)
    if owner:
        url = url.set(username=owner)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        names = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        result = set(names)
    engine.dispose()
    return result


def test_upgrade_from_empty_creates_every_table_and_is_idempotent() -> None:
    with scratch_database() as url:
        before = migrate.current_revision(url)

        migrate.upgrade(url)
        migrate.upgrade(url)

        assert before is None
        assert migrate.current_revision(url) == migrate.head_revision()
        assert {"tenants", *TENANT_TABLES} <= _tables(url)


def test_downgrade_to_base_and_back() -> None:
    with scratch_database() as url:
        migrate.upgrade(url)

        migrate.downgrade(url, "base")
        emptied = _tables(url) - {"alembic_version"}
        migrate.upgrade(url)

        assert emptied == set()
        assert "findings" in _tables(url)


def test_models_match_the_migrated_schema(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection, warnings.catch_warnings():
        # Alembic cannot compare expression indexes and says so; that is expected here.
        warnings.simplefilter("ignore")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()

    assert differences == []


def test_every_tenant_table_forces_row_level_security(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid "
                "   AND p.polname = 'tenant_isolation') "
                "FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
                "AND c.relkind = 'r' AND c.relname <> 'alembic_version'"
            )
        ).all()
        role = connection.execute(
            text(
                "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles "
                "WHERE rolname = 'fintropy_app'"
            )
        ).one()
    engine.dispose()

    assert {row[0] for row in rows} == {"tenants", *TENANT_TABLES}
    assert [row[0] for row in rows if row[1:] != (True, True, 1)] == []
    assert tuple(role) == (False, False, False)


def test_non_superuser_owner_can_migrate_provision_and_work() -> None:
    owner = f"fintropy_owner_{uuid.uuid4().hex[:8]}"
    server = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{owner}" LOGIN CREATEROLE NOSUPERUSER'))
    try:
        with scratch_database(owner) as url:
            _migrate_provision_and_work(url)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
        server.dispose()


def _migrate_provision_and_work(url: str) -> None:
    migrate.upgrade(url)
    engine = create_engine_for(url)
    spec = make_tenant_spec()
    try:
        with admin_session(engine) as session:
            repo.provision_tenant(session, spec)
            # FORCE applies to a non-superuser owner too: without a tenant it sees nothing.
            session.execute(text("SELECT set_config('fintropy.tenant_id', '', true)"))
            owner_sees = session.execute(text("SELECT count(*) FROM people")).scalar_one()
        with tenant_session(engine, spec.id) as session:
            audit.append_event(session, spec.id, "alice", "tenant.provisioned", spec.id)
            approvers = repo.approvers(session, spec.id)
            verified = audit.verify_chain(session, spec.id)
        with Session(engine) as session:
            routed = repo.resolve_tenant_for_chat(session, "slack", f"T{spec.id}", None)
    finally:
        engine.dispose()

    assert owner_sees == 0
    assert approvers == ["alice", "bob"]
    assert verified.ok
    assert routed == spec.id


def test_app_engine_on_a_database_without_the_role_says_how_to_fix(database_url: str) -> None:
    from fintropy.errors import ConfigError
    from fintropy.persistence import db

    engine = create_engine_for(database_url)
    original = db.APP_ROLE
    db.APP_ROLE = "fintropy_missing_role"
    try:
        try:
            with engine.connect():
                raised = None
        except ConfigError as exc:
            raised = exc
    finally:
        db.APP_ROLE = original
        engine.dispose()

    assert raised is not None
    assert "fintropy_missing_role" in raised.message
    assert "Run the migrations first" in raised.remediation
