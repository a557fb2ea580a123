"""PostgreSQL fixtures: one fresh, migrated database per test session, dropped at the end.

The server is the one named by ``DATABASE_URL`` when set, else the machine's PostgreSQL at
127.0.0.1:5432 (user postgres, trust auth). That URL is only the admin connection used to
create and drop ``fintropy_test_<random>``; tests get the new database's URL.

Tests share the database, so each should work in its own tenant: the ``tenant`` fixture
provisions one with a random id, people in every role and a bound Slack workspace. Row-Level
Security then keeps tests from seeing each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from fintropy.domain import CloudAccount, Role

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
START_HINT = (
    "PostgreSQL is not reachable at {url}. Start the machine's server with "
    "`pg_ctlcluster --skip-systemctl-redirect 15 main start` (or set DATABASE_URL to a "
    "server where this user may create databases and roles)."
)


def admin_url() -> str:
    """The URL of the server tests create their database on."""
    from fintropy.persistence.db import normalize_url

    return normalize_url(os.environ.get("DATABASE_URL") or DEFAULT_ADMIN_URL)


def _admin_engine(url: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database with every migration applied, dropped when the session ends."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from fintropy.persistence import migrate

    server = admin_url()
    name = f"fintropy_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(server)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        safe = make_url(server).render_as_string(hide_password=True)
        pytest.fail(START_HINT.format(url=safe) + f"\n{exc.orig}", pytrace=False)

    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Any]:
    """An application engine on the test database (connections act as ``fintropy_app``)."""
    from fintropy.persistence.db import create_engine_for

    app_engine = create_engine_for(database_url)
    yield app_engine
    app_engine.dispose()


def make_tenant_spec(tenant_id: str | None = None, **overrides: Any) -> Any:
    """A tenant with one AWS account, a person in each role and a bound Slack workspace.

    Slack ids derive from the tenant id: workspace ``T<id>``, default channel ``C<id>``, users
    ``U<id>-<person>`` for alice (admin), bob (approver), carol (requester), dave (viewer).
    """
    from fintropy.persistence.tenancy import (
        ChatBindingSpec,
        ChatIdentitySpec,
        PersonSpec,
        TenantSpec,
    )

    tenant_id = tenant_id or f"t{uuid.uuid4().hex[:10]}"
    workspace = f"T{tenant_id}"
    roles = {
        "alice": Role.ADMIN,
        "bob": Role.APPROVER,
        "carol": Role.REQUESTER,
        "dave": Role.VIEWER,
    }
    people = tuple(
        PersonSpec(
            id=name,
            display_name=name.capitalize(),
            email=f"{name}@{tenant_id}.example",
            role=role,
            identities=(
                ChatIdentitySpec(
                    platform="slack", workspace_id=workspace, user_id=f"U{tenant_id}-{name}"
                ),
            ),
        )
        for name, role in roles.items()
    )
    values: dict[str, Any] = {
        "id": tenant_id,
        "name": f"Tenant {tenant_id}",
        "accounts": (
            CloudAccount("aws", "111111111111", "sandbox", None, ("eu-west-1", "us-east-1")),
        ),
        "people": people,
        "bindings": (
            ChatBindingSpec(platform="slack", workspace_id=workspace),
            ChatBindingSpec(
                platform="slack",
                workspace_id=workspace,
                channel_id=f"C{tenant_id}",
                is_default_channel=True,
            ),
        ),
    }
    values.update(overrides)
    return TenantSpec(**values)


def provision_test_tenant(engine: Any, spec: Any = None) -> Any:
    """Provision ``spec`` (default: ``make_tenant_spec()``) and return it."""
    from fintropy.persistence.db import admin_session
    from fintropy.persistence.tenancy import provision_tenant

    spec = spec or make_tenant_spec()
    with admin_session(engine) as session:
        provision_tenant(session, spec)
    return spec


@pytest.fixture
def tenant(engine: Any) -> Any:
    """A freshly provisioned tenant (``TenantSpec``) with a random id, for one test."""
    return provision_test_tenant(engine)
