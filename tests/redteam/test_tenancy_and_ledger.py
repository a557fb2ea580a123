"""Red team against the database itself: the app role as an attacker with a SQL prompt.

The tables are discovered from PostgreSQL's catalog, not from a list in the code, so a table
added later without its Row-Level Security policy is caught here. The ledger is attacked
through the application role (which must not be able to rewrite it) and through a superuser
connection (which can, and which ``fintropy audit verify`` must then expose, naming the
first bad row).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from fintropy import audit
from fintropy.persistence.db import admin_session, create_engine_for, tenant_session
from tests.persistence.data import populate_every_table
from tests.support.pg_fixtures import provision_test_tenant

ROOT = Path(__file__).resolve().parents[2]


def _tenant_tables(engine: Any) -> dict[str, str]:
    """Every table in the schema that belongs to a tenant: name -> its tenant column."""
    with admin_session(engine) as session:
        rows = session.execute(
            text(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_name = 'tenant_id' "
                "AND table_name NOT LIKE 'alembic%'"
            )
        ).scalars()
        tables = dict.fromkeys(rows, "tenant_id")
    return {"tenants": "id", **tables}


@pytest.fixture(scope="module")
def two_tenants(engine: Any) -> tuple[str, str]:
    """Tenants A and B with rows in every tenant table, Teams references included."""
    from fintropy.persistence.teams import save_conversation

    ids = []
    for _ in range(2):
        tenant_id = provision_test_tenant(engine).id
        populate_every_table(engine, tenant_id)
        with tenant_session(engine, tenant_id) as session:
            save_conversation(
                session,
                tenant_id,
                conversation_id=f"19:{tenant_id}@thread.tacv2",
                channel_id=f"19:{tenant_id}@thread.tacv2",
                service_url="https://smba.trafficmanager.net/emea/",
                reference={"conversation": {"id": f"19:{tenant_id}@thread.tacv2"}},
            )
        ids.append(tenant_id)
    return ids[0], ids[1]


def test_every_tenant_table_forces_row_level_security(engine: Any, two_tenants: Any):
    tables = _tenant_tables(engine)
    with admin_session(engine) as session:
        flags = {
            name: (enabled, forced)
            for name, enabled, forced in session.execute(
                text(
                    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                    "WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
                )
            )
        }
        policies = set(
            session.execute(
                text("SELECT tablename FROM pg_policies WHERE policyname = 'tenant_isolation'")
            ).scalars()
        )

    unprotected = sorted(t for t in tables if flags.get(t) != (True, True) or t not in policies)
    assert unprotected == [], f"tenant tables without forced RLS and a policy: {unprotected}"


def test_deliberately_unscoped_query_returns_nothing(
    engine: Any, database_url: str, two_tenants: Any
):
    a, b = two_tenants
    tables = _tenant_tables(engine)
    with admin_session(engine) as session:
        present = {
            table: set(session.execute(text(f"SELECT DISTINCT {col} FROM {table}")).scalars())
            for table, col in tables.items()
        }
    # The attack: a plain connection as the application role, no tenant_session at all.
    app_engine = create_engine_for(database_url)
    try:
        with app_engine.connect() as connection:
            leaked = {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in tables
            }
    finally:
        app_engine.dispose()

    missing = sorted(t for t, seen in present.items() if not {a, b} <= seen)
    assert missing == [], f"the fixture left these tables without rows of both tenants: {missing}"
    assert {t: n for t, n in leaked.items() if n} == {}


@pytest.mark.parametrize("tenant_id", ["' OR '1'='1", "%", "", " ", "*"])
def test_hostile_tenant_setting_matches_no_row(engine: Any, two_tenants: Any, tenant_id: str):
    tables = _tenant_tables(engine)
    # set_config with a hostile value, as a bug or an injection might leave it.
    with engine.connect() as connection, connection.begin():
        connection.execute(
            text("SELECT set_config('fintropy.tenant_id', :t, true)"), {"t": tenant_id}
        )
        leaked = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in tables
        }

    assert {t: n for t, n in leaked.items() if n} == {}


def test_writes_into_another_tenant_are_refused_by_the_engine(engine: Any, two_tenants: Any):
    a, b = two_tenants
    tables = _tenant_tables(engine)
    accepted: list[str] = []
    refusals: dict[str, str] = {}
    for table, col in tables.items():
        with tenant_session(engine, a) as session:
            row = session.execute(text(f"SELECT * FROM {table} LIMIT 1")).mappings().first()
        assert row is not None, f"tenant A sees no row of its own in {table}"
        values = {k: v for k, v in row.items() if k != "id" or table != "chat_bindings"}
        values[col] = b
        if "id" in values and table != "tenants":
            values["id"] = f"{values['id']}-forged"
        columns = ", ".join(values)
        params = ", ".join(f"CAST(:{k} AS {_pg_type(engine, table, k)})" for k in values)
        bound = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in values.items()}
        try:
            with tenant_session(engine, a) as session:
                session.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), bound)
        except DBAPIError as err:
            refusals[table] = str(err.orig)
        else:
            accepted.append(table)

    assert accepted == [], f"tenant A wrote rows of tenant B into: {accepted}"
    assert {
        t: m
        for t, m in refusals.items()
        if "row-level security" not in m and "permission denied" not in m
    } == {}, "refused, but not by the isolation policy or the grants"


def test_another_tenants_rows_cannot_be_updated_deleted_or_claimed(engine: Any, two_tenants: Any):
    a, b = two_tenants
    tables = _tenant_tables(engine)
    with admin_session(engine) as session:
        before = {
            t: session.execute(text(f"SELECT count(*) FROM {t} WHERE {c} = :b"), {"b": b}).scalar()
            for t, c in tables.items()
        }
    touched: dict[str, str] = {}
    errors: list[str] = []
    for table, col in tables.items():
        for verb, sql in (
            ("update", f"UPDATE {table} SET {col} = {col} WHERE {col} = :b"),
            ("delete", f"DELETE FROM {table} WHERE {col} = :b"),
            ("claim", f"UPDATE {table} SET {col} = :a WHERE {col} = :b"),
        ):
            try:
                with tenant_session(engine, a) as session:
                    count = session.execute(text(sql), {"a": a, "b": b}).rowcount
            except DBAPIError as err:
                errors.append(str(err.orig))
                continue
            if count:
                touched[table] = f"{verb} changed {count} row(s)"
    with admin_session(engine) as session:
        after = {
            t: session.execute(text(f"SELECT count(*) FROM {t} WHERE {c} = :b"), {"b": b}).scalar()
            for t, c in tables.items()
        }

    assert touched == {}
    assert after == before
    assert all("permission denied" in e for e in errors), errors


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'mallory' WHERE tenant_id = :t",
        "DELETE FROM audit_events WHERE tenant_id = :t",
        "TRUNCATE audit_events",
    ],
    ids=["update", "delete", "truncate"],
)
def test_app_role_cannot_rewrite_its_own_ledger(engine: Any, statement: str):
    tenant_id = provision_test_tenant(engine).id
    with tenant_session(engine, tenant_id) as session:
        for n in range(3):
            audit.append_event(session, tenant_id, "alice", "decision.approved", f"f-{n:012d}")

    with pytest.raises(DBAPIError) as refused:
        with tenant_session(engine, tenant_id) as session:
            session.execute(text(statement), {"t": tenant_id})
    with tenant_session(engine, tenant_id) as session:
        result = audit.verify_chain(session, tenant_id)
        actors = [e.actor for e in audit.trail(session, tenant_id)]

    assert "permission denied" in str(refused.value.orig)
    assert result.ok and result.checked == 3
    assert actors == ["alice"] * 3


def _pg_type(engine: Any, table: str, column: str) -> str:
    with admin_session(engine) as session:
        return session.execute(
            text(
                "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "WHERE a.attrelid = CAST(:t AS regclass) AND a.attname = :c"
            ),
            {"t": table, "c": column},
        ).scalar_one()


def _verify_cli(database_url: str, tenant_id: str, *extra: str) -> subprocess.CompletedProcess:
    """``python -m fintropy.cli audit verify --tenant T`` against the test database."""
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "fintropy.cli", "audit", "verify", "--tenant", tenant_id, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


TAMPERING = {
    # What a superuser (or anyone with the owner's password) might do to hide a decision.
    "altered": (
        3,
        ["UPDATE audit_events SET actor = 'mallory' WHERE tenant_id = :t AND seq = 3"],
    ),
    "removed": (3, ["DELETE FROM audit_events WHERE tenant_id = :t AND seq = 3"]),
    "reordered": (
        2,
        [
            "UPDATE audit_events SET seq = 1000 WHERE tenant_id = :t AND seq = 2",
            "UPDATE audit_events SET seq = 2 WHERE tenant_id = :t AND seq = 3",
            "UPDATE audit_events SET seq = 3 WHERE tenant_id = :t AND seq = 1000",
        ],
    ),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_audit_verify_names_the_first_tampered_row(engine: Any, database_url: str, how: str):
    bad_seq, statements = TAMPERING[how]
    tenant_id = provision_test_tenant(engine).id
    with tenant_session(engine, tenant_id) as session:
        for n, action in enumerate(
            ["finding.opened", "card.posted", "decision.approved", "remediation.executed"]
        ):
            audit.append_event(
                session, tenant_id, "bob", action, "f-0123456789ab", details={"n": n}
            )
    with tenant_session(engine, tenant_id) as session:
        intact = audit.verify_chain(session, tenant_id)

    with admin_session(engine) as session:  # the login role: a superuser here
        for statement in statements:
            session.execute(text(statement), {"t": tenant_id})
    broken = _verify_cli(database_url, tenant_id, "--json")

    assert intact.ok and intact.checked == 4
    assert broken.returncode == 1, broken.stdout + broken.stderr
    report = json.loads(broken.stdout.strip().splitlines()[-1])
    assert report["ok"] is False
    assert report["first_bad_seq"] == bad_seq
    assert f"event {bad_seq}" in report["reason"]
