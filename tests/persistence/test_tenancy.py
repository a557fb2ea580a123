"""Tenant isolation by Row-Level Security, over every table, with two tenants."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlmodel import Session

from fintropy.domain import Role
from fintropy.errors import ConfigError
from fintropy.persistence import repo
from fintropy.persistence.db import (
    admin_session,
    create_engine_for,
    tenant_session,
)
from fintropy.persistence.models import TENANT_TABLES
from fintropy.persistence.tenancy import ChatBindingSpec
from tests.persistence.data import populate_every_table
from tests.support.pg_fixtures import make_tenant_spec, provision_test_tenant

ALL_TABLES = ("tenants", *TENANT_TABLES)


def _tenant_column(table: str) -> str:
    return "id" if table == "tenants" else "tenant_id"


@pytest.fixture(scope="module")
def two_tenants(engine: Any) -> tuple[str, str]:
    """Tenants A and B, each with rows in every table."""
    a = provision_test_tenant(engine).id
    b = provision_test_tenant(engine).id
    populate_every_table(engine, a)
    populate_every_table(engine, b)
    return a, b


def test_every_table_holds_rows_of_both_tenants(engine: Any, two_tenants: tuple[str, str]) -> None:
    with admin_session(engine) as session:
        for table in ALL_TABLES:
            column = _tenant_column(table)
            seen = set(session.execute(text(f"SELECT DISTINCT {column} FROM {table}")).scalars())

            assert set(two_tenants) <= seen, table


@pytest.mark.parametrize("table", ALL_TABLES)
def test_unscoped_query_returns_nothing(
    engine: Any, two_tenants: tuple[str, str], table: str
) -> None:
    # Deliberately forget the tenant: a plain session on the application engine.
    with Session(engine) as session:
        count = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()

    assert count == 0


@pytest.mark.parametrize("table", ALL_TABLES)
def test_tenant_sees_only_its_own_rows(
    engine: Any, two_tenants: tuple[str, str], table: str
) -> None:
    a, _ = two_tenants
    column = _tenant_column(table)

    with tenant_session(engine, a) as session:
        seen = set(session.execute(text(f"SELECT DISTINCT {column} FROM {table}")).scalars())

    assert seen == {a}


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_writing_another_tenants_row_is_refused(
    engine: Any, two_tenants: tuple[str, str], table: str
) -> None:
    a, b = two_tenants
    with admin_session(engine) as session:
        row = session.execute(
            text(f"SELECT row_to_json(t)::text FROM {table} t WHERE tenant_id = :b LIMIT 1"),
            {"b": b},
        ).scalar_one()

    with pytest.raises(ProgrammingError, match="row-level security"):
        with tenant_session(engine, a) as session:
            session.execute(
                text(
                    f"INSERT INTO {table} SELECT * FROM json_populate_record(NULL::{table}, "
                    "CAST(:row AS json))"
                ),
                {"row": row},
            )


@pytest.mark.parametrize("table", [t for t in TENANT_TABLES if t != "audit_events"])
def test_other_tenants_rows_cannot_be_changed_or_moved(
    engine: Any, two_tenants: tuple[str, str], table: str
) -> None:
    a, b = two_tenants

    with tenant_session(engine, a) as session:
        updated = session.execute(
            text(f"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = :b"), {"b": b}
        ).rowcount
        deleted = session.execute(
            text(f"DELETE FROM {table} WHERE tenant_id = :b"), {"b": b}
        ).rowcount
    with pytest.raises(ProgrammingError, match="row-level security"):
        with tenant_session(engine, a) as session:
            session.execute(text(f"UPDATE {table} SET tenant_id = :b"), {"b": b})

    assert (updated, deleted) == (0, 0)


def test_app_role_cannot_create_or_change_tenants(engine: Any, two_tenants: Any) -> None:
    a, _ = two_tenants

    with pytest.raises(ProgrammingError, match="permission denied"):
        with tenant_session(engine, a) as session:
            session.execute(text("UPDATE tenants SET dry_run = true"))


def _fail_inside_unit_of_work(engine: Any, tenant_id: str) -> None:
    with tenant_session(engine, tenant_id) as session:
        assert session.execute(text("SELECT count(*) FROM findings")).scalar_one() > 0
        raise RuntimeError("fail inside the unit of work")


def test_rolled_back_transaction_leaks_no_tenant(
    database_url: str, two_tenants: tuple[str, str]
) -> None:
    a, _ = two_tenants
    # One pooled connection, so the next unit of work reuses the very same connection.
    single = create_engine_for(database_url, pool_size=1, max_overflow=0)
    try:
        with pytest.raises(RuntimeError, match="fail inside"):
            _fail_inside_unit_of_work(single, a)

        with Session(single) as session:
            setting = session.execute(
                text("SELECT current_setting('fintropy.tenant_id', true)")
            ).scalar_one()
            findings = session.execute(text("SELECT count(*) FROM findings")).scalar_one()
            role = session.execute(text("SELECT current_user")).scalar_one()
    finally:
        single.dispose()

    assert (setting or "", findings, role) == ("", 0, "fintropy_app")


def test_committed_transaction_leaves_no_tenant_behind(
    database_url: str, two_tenants: tuple[str, str]
) -> None:
    a, _ = two_tenants
    single = create_engine_for(database_url, pool_size=1, max_overflow=0)
    try:
        with tenant_session(single, a) as session:
            session.execute(text("SELECT 1"))
        with Session(single) as session:
            findings = session.execute(text("SELECT count(*) FROM findings")).scalar_one()
    finally:
        single.dispose()

    assert findings == 0


def test_admin_session_hands_the_connection_back_as_the_app_role(
    database_url: str, two_tenants: tuple[str, str]
) -> None:
    single = create_engine_for(database_url, pool_size=1, max_overflow=0)
    try:
        with admin_session(single) as session:
            inside = session.execute(text("SELECT count(*) FROM findings")).scalar_one()
        with Session(single) as session:
            role = session.execute(text("SELECT current_user")).scalar_one()
            after = session.execute(text("SELECT count(*) FROM findings")).scalar_one()
    finally:
        single.dispose()

    assert inside >= 2
    assert (role, after) == ("fintropy_app", 0)


def test_commit_inside_the_block_keeps_the_tenant(engine: Any, two_tenants: Any) -> None:
    a, _ = two_tenants

    with tenant_session(engine, a) as session:
        session.commit()
        count = session.execute(text("SELECT count(*) FROM findings")).scalar_one()

    assert count == 1


def test_tenant_session_refuses_an_empty_tenant(engine: Any) -> None:
    with pytest.raises(ValueError, match="non-empty tenant id"), tenant_session(engine, ""):
        pass


def test_chat_binding_resolves_to_its_tenant(engine: Any, tenant: Any) -> None:
    workspace = f"T{tenant.id}"

    with Session(engine) as session:
        by_default_channel = repo.resolve_tenant_for_chat(
            session, "slack", workspace, f"C{tenant.id}"
        )
        by_other_channel = repo.resolve_tenant_for_chat(session, "slack", workspace, "Cother")
        by_dm = repo.resolve_tenant_for_chat(session, "slack", workspace, None)
        unbound = repo.resolve_tenant_for_chat(session, "slack", "Tunknown", "C1")
        other_platform = repo.resolve_tenant_for_chat(session, "teams", workspace, None)

    assert (by_default_channel, by_other_channel, by_dm) == (tenant.id, tenant.id, tenant.id)
    assert (unbound, other_platform) == (None, None)


def test_channel_only_binding_refuses_other_channels(engine: Any) -> None:
    spec = make_tenant_spec(
        bindings=(ChatBindingSpec(platform="slack", workspace_id="Tshared", channel_id="Cfinops"),)
    )
    provision_test_tenant(engine, spec)

    with Session(engine) as session:
        bound = repo.resolve_tenant_for_chat(session, "slack", "Tshared", "Cfinops")
        other = repo.resolve_tenant_for_chat(session, "slack", "Tshared", "Crandom")

    assert (bound, other) == (spec.id, None)


def test_binding_a_workspace_of_another_tenant_is_refused(engine: Any, tenant: Any) -> None:
    intruder = make_tenant_spec(
        bindings=(ChatBindingSpec(platform="slack", workspace_id=f"T{tenant.id}"),)
    )

    with pytest.raises(ConfigError, match="already bound to another tenant"):
        provision_test_tenant(engine, intruder)
    with Session(engine) as session:
        owner = repo.resolve_tenant_for_chat(session, "slack", f"T{tenant.id}", None)

    assert owner == tenant.id


def test_provisioning_twice_changes_nothing(engine: Any, tenant: Any) -> None:
    def snapshot() -> dict[str, int]:
        with tenant_session(engine, tenant.id) as session:
            return {
                table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ALL_TABLES
            }

    before = snapshot()
    provision_test_tenant(engine, tenant)

    assert snapshot() == before


def test_reprovisioning_replaces_a_persons_role(engine: Any, tenant: Any) -> None:
    demoted = [
        p.model_copy(update={"role": Role.VIEWER}) if p.id == "bob" else p for p in tenant.people
    ]
    provision_test_tenant(engine, tenant.model_copy(update={"people": tuple(demoted)}))

    with tenant_session(engine, tenant.id) as session:
        bob = repo.resolve_person(session, tenant.id, "slack", f"T{tenant.id}", f"U{tenant.id}-bob")
        approvers = repo.approvers(session, tenant.id)

    assert bob is not None
    assert bob.role == Role.VIEWER
    assert approvers == ["alice"]


def test_person_resolves_with_role_only_in_own_tenant(engine: Any, tenant: Any) -> None:
    other = provision_test_tenant(engine)

    with tenant_session(engine, tenant.id) as session:
        bob = repo.resolve_person(session, tenant.id, "slack", f"T{tenant.id}", f"U{tenant.id}-bob")
        stranger = repo.resolve_person(session, tenant.id, "slack", f"T{tenant.id}", "Unobody")
        approvers = repo.approvers(session, tenant.id)
        requesters = repo.people_with_role(session, tenant.id, Role.REQUESTER)
    with tenant_session(engine, tenant.id) as session:
        foreign = repo.resolve_person(
            session, other.id, "slack", f"T{other.id}", f"U{other.id}-bob"
        )

    assert bob == ("bob", "Bob", Role.APPROVER)
    assert stranger is None
    assert foreign is None
    assert approvers == ["alice", "bob"]
    assert [p[0] for p in requesters] == ["alice", "bob", "carol"]


def test_tenant_ids_are_listed_without_a_tenant(engine: Any, tenant: Any) -> None:
    with Session(engine) as session:
        ids = repo.list_tenant_ids(session)

    assert tenant.id in ids


def test_accounts_and_default_channel_come_back(engine: Any, tenant: Any) -> None:
    with tenant_session(engine, tenant.id) as session:
        accounts = repo.list_accounts(session, tenant.id)
        account = repo.get_account(session, tenant.id, "aws", "111111111111")
        channel = repo.default_channel(session, tenant.id, "slack")

    assert accounts == list(tenant.accounts)
    assert account == tenant.accounts[0]
    assert channel is not None
    assert channel.channel_id == f"C{tenant.id}"


def test_bad_tenant_spec_names_the_problem() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        make_tenant_spec(timezone="Mars/Olympus")


def test_engine_can_be_passed_where_no_tenant_is_known(engine: Any, tenant: Any) -> None:
    routed = repo.resolve_tenant_for_chat(engine, "slack", f"T{tenant.id}", None)
    ids = repo.list_tenant_ids(engine)

    assert routed == tenant.id
    assert tenant.id in ids


def test_tenant_file_shaped_spec_is_provisioned_through_the_engine(engine: Any) -> None:
    from types import SimpleNamespace as Entry

    from fintropy.domain import CloudAccount

    config = Entry(
        id="filecorp",
        name="File Corp",
        timezone="Europe/Paris",
        accounts=(CloudAccount("aws", "222222222222", "prod", None, ("eu-west-1",), "prod"),),
        people=(
            Entry(
                id="erin",
                display_name="Erin",
                email="",
                role=Role.APPROVER,
                chat=(Entry(platform="slack", workspace_id="TFILE", user_id="UERIN"),),
            ),
        ),
        channels=(Entry(platform="slack", workspace_id="TFILE", channel_id="CFIN", default=True),),
    )

    repo.provision_tenant(engine, config)

    with tenant_session(engine, "filecorp") as session:
        erin = repo.resolve_person(session, "filecorp", "slack", "TFILE", "UERIN")
        channel = repo.default_channel(session, "filecorp", "slack")
        tenant_row = repo.get_tenant(session, "filecorp")
    assert erin == ("erin", "Erin", Role.APPROVER)
    assert channel is not None
    assert channel.channel_id == "CFIN"
    assert tenant_row is not None
    assert tenant_row.timezone == "Europe/Paris"
