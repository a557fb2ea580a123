"""Initial schema: tenant tables, Row-Level Security, the application role, routing functions.

Revision ID: 0001
Revises:
Create Date: 2026-12-03

Roles are cluster-wide, so they are created only when missing and never dropped by downgrade
(other databases on the same server may use them):

- ``fintropy_app``: NOLOGIN NOSUPERUSER NOBYPASSRLS. Application sessions ``SET ROLE`` to it.
  SELECT/INSERT/UPDATE/DELETE on tenant tables, SELECT/INSERT only on ``audit_events``
  (append-only), SELECT on ``tenants``.
- ``fintropy_router``: NOLOGIN. Owns the two SECURITY DEFINER functions that must work before
  a tenant is known, and may SELECT ``chat_bindings`` and ``tenants`` across tenants through a
  policy of its own. It has no other privilege, so the functions can reveal only a tenant id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fintropy_app"
ROUTER_ROLE = "fintropy_router"
TENANT_EXPR = "current_setting('fintropy.tenant_id', true)"

# Tables scoped by tenant_id, in creation order (audit_events gets narrower grants).
TENANT_TABLES = (
    "cloud_accounts",
    "people",
    "chat_identities",
    "role_assignments",
    "chat_bindings",
    "scans",
    "scan_targets",
    "resources_seen",
    "findings",
    "remediation_runs",
    "remediation_outcomes",
    "audit_events",
    "exceptions",
)


def _str(name: str, nullable: bool = False, **kwargs) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable, **kwargs)


def _jsonb(name: str, default: str) -> sa.Column:
    return sa.Column(
        name,
        postgresql.JSONB(astext_type=sa.Text()),
        server_default=sa.text(f"'{default}'::jsonb"),
        nullable=False,
    )


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=f"{table}_tenant_fk")


def _in(column: str, values: Sequence[str], name: str) -> sa.CheckConstraint:
    quoted = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=name)


def upgrade() -> None:
    """Create the tables, then the roles, grants, policies and routing functions."""
    _create_tables()
    _create_roles()
    _grant_and_isolate()
    _create_routing_functions()


def _create_tables() -> None:
    op.create_table(
        "tenants",
        _str("id"),
        _str("name"),
        _str("timezone"),
        sa.Column("dry_run", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "max_actions_per_account_per_day",
            sa.Integer(),
            server_default=sa.text("20"),
            nullable=False,
        ),
        _jsonb("rule_params", "{}"),
        _jsonb("approval_policy", "{}"),
        _ts("created_at"),
        sa.CheckConstraint("id <> ''", name="tenants_id_not_empty"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "cloud_accounts",
        _str("tenant_id"),
        _str("provider"),
        _str("account_id"),
        _str("name"),
        _str("role_arn", nullable=True),
        _jsonb("regions", "[]"),
        _str("environment"),
        _tenant_fk("cloud_accounts"),
        sa.PrimaryKeyConstraint("tenant_id", "provider", "account_id"),
    )
    op.create_table(
        "people",
        _str("tenant_id"),
        _str("id"),
        _str("display_name"),
        _str("email", nullable=True),
        sa.Column("on_call", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        _tenant_fk("people"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_table(
        "chat_identities",
        _str("tenant_id"),
        _str("platform"),
        _str("workspace_id"),
        _str("user_id"),
        _str("person_id"),
        _in("platform", ("slack", "teams", "cli"), "chat_identities_platform_check"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "person_id"],
            ["people.tenant_id", "people.id"],
            name="chat_identities_person_fk",
        ),
        _tenant_fk("chat_identities"),
        sa.PrimaryKeyConstraint("tenant_id", "platform", "workspace_id", "user_id"),
    )
    op.create_table(
        "role_assignments",
        _str("tenant_id"),
        _str("person_id"),
        _str("role"),
        _in("role", ("viewer", "requester", "approver", "admin"), "role_assignments_role_check"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "person_id"],
            ["people.tenant_id", "people.id"],
            name="role_assignments_person_fk",
        ),
        _tenant_fk("role_assignments"),
        sa.PrimaryKeyConstraint("tenant_id", "person_id", "role"),
    )
    op.create_table(
        "chat_bindings",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        _str("tenant_id"),
        _str("platform"),
        _str("workspace_id"),
        _str("channel_id", nullable=True),
        sa.Column(
            "is_default_channel", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        _in("platform", ("slack", "teams", "console"), "chat_bindings_platform_check"),
        _tenant_fk("chat_bindings"),
        sa.PrimaryKeyConstraint("id"),
    )
    # One tenant per workspace or channel, across tenants: routing must be unambiguous.
    op.create_index(
        "chat_bindings_target_key",
        "chat_bindings",
        ["platform", "workspace_id", sa.literal_column("coalesce(channel_id, '')")],
        unique=True,
    )
    op.create_table(
        "scans",
        _str("tenant_id"),
        _str("id"),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        _str("status"),
        _str("requested_by"),
        sa.Column("resource_count", sa.Integer(), nullable=False),
        sa.Column("finding_count", sa.Integer(), nullable=False),
        _jsonb("errors", "[]"),
        _tenant_fk("scans"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_table(
        "scan_targets",
        _str("tenant_id"),
        _str("scan_id"),
        _str("provider"),
        _str("account_id"),
        _str("region"),
        sa.Column("resource_count", sa.Integer(), nullable=False),
        _jsonb("errors", "[]"),
        _ts("collected_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "scan_id"], ["scans.tenant_id", "scans.id"], name="scan_targets_scan_fk"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "scan_id", "provider", "account_id", "region"),
    )
    op.create_table(
        "resources_seen",
        _str("tenant_id"),
        _str("scan_id"),
        _str("provider"),
        _str("account_id"),
        _str("region"),
        _str("resource_type"),
        _str("resource_id"),
        _str("name"),
        _jsonb("tags", "{}"),
        _jsonb("attrs", "{}"),
        _jsonb("metrics", "{}"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "scan_id"], ["scans.tenant_id", "scans.id"], name="resources_seen_scan_fk"
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "scan_id", "provider", "account_id", "region", "resource_type",
            "resource_id",
        ),
    )
    op.create_table(
        "findings",
        _str("tenant_id"),
        _str("id"),
        _str("rule_id"),
        _str("rule_version"),
        _str("title"),
        _str("severity"),
        _str("provider"),
        _str("account_id"),
        _str("region"),
        _str("resource_type"),
        _str("resource_id"),
        _str("resource_name"),
        _str("explanation"),
        _jsonb("evidence", "{}"),
        sa.Column("savings_usd_month", sa.Numeric(precision=14, scale=2), nullable=False),
        _str("savings_formula"),
        _str("price_basis"),
        _str("action", nullable=True),
        _str("reversibility", nullable=True),
        _str("risk", nullable=True),
        _jsonb("data_used", "[]"),
        _str("status"),
        _ts("first_seen_at"),
        _ts("last_seen_at"),
        _str("last_scan_id"),
        _str("workflow_id", nullable=True),
        _jsonb("card_refs", "[]"),
        _jsonb("decided_by", "[]"),
        _ts("updated_at"),
        _in(
            "status",
            (
                "open", "awaiting_approval", "approved", "remediating", "remediated",
                "verified", "rejected", "expired", "failed", "resolved", "snoozed",
            ),
            "findings_status_check",
        ),
        _tenant_fk("findings"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_index("findings_tenant_status_idx", "findings", ["tenant_id", "status"])
    op.create_table(
        "remediation_runs",
        _str("tenant_id"),
        _str("id"),
        _str("finding_id"),
        _str("workflow_id"),
        _str("action"),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        _str("status"),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        _str("requested_by"),
        _jsonb("approved_by", "[]"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "finding_id"],
            ["findings.tenant_id", "findings.id"],
            name="remediation_runs_finding_fk",
        ),
        _tenant_fk("remediation_runs"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_table(
        "remediation_outcomes",
        _str("tenant_id"),
        _str("run_id"),
        _str("step"),
        _str("provider"),
        _str("account_id"),
        _str("region"),
        _str("resource_type"),
        _str("resource_id"),
        _str("action"),
        _str("status"),
        _str("detail"),
        _jsonb("restore_point", "{}"),
        _ts("at"),
        _in(
            "step",
            ("plan", "restore_point", "execute", "verify", "restore"),
            "remediation_outcomes_step_check",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_id"],
            ["remediation_runs.tenant_id", "remediation_runs.id"],
            name="remediation_outcomes_run_fk",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "run_id", "step", "provider", "account_id", "region", "resource_type",
            "resource_id",
        ),
    )
    op.create_table(
        "audit_events",
        _str("tenant_id"),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        _str("id"),
        _ts("at"),
        _str("actor"),
        _str("actor_chat", nullable=True),
        _str("action"),
        _str("subject"),
        _str("rule_id", nullable=True),
        _str("rule_version", nullable=True),
        _str("workflow_id", nullable=True),
        # json, not jsonb: it keeps the exact text that was hashed.
        sa.Column("details", sa.JSON(), nullable=False),
        _str("prev_hash"),
        _str("hash"),
        _tenant_fk("audit_events"),
        sa.PrimaryKeyConstraint("tenant_id", "seq"),
        sa.UniqueConstraint("id", name="audit_events_id_key"),
    )
    op.create_index("audit_events_subject_idx", "audit_events", ["tenant_id", "subject"])
    op.create_table(
        "exceptions",
        _str("tenant_id"),
        _str("id"),
        _str("scope"),
        _str("scope_value"),
        _str("owner"),
        _str("reason"),
        _ts("expires_at"),
        _ts("created_at"),
        _in("scope", ("finding", "resource", "tag", "account", "rule"), "exceptions_scope_check"),
        _tenant_fk("exceptions"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )


def _create_roles() -> None:
    # Concurrent first migrations on two databases of one server may race to create a role.
    for role in (APP_ROLE, ROUTER_ROLE):
        op.execute(
            f"""
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS;
              END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$;
            """
        )
        # A pre-existing role with more power would silently defeat isolation: refuse it.
        op.execute(
            f"""
            DO $$
            BEGIN
              IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}'
                         AND (rolsuper OR rolbypassrls OR rolcanlogin)) THEN
                RAISE EXCEPTION 'role {role} must be NOLOGIN NOSUPERUSER NOBYPASSRLS';
              END IF;
              IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                EXECUTE 'GRANT {role} TO ' || quote_ident(current_user);
              END IF;
            END $$;
            """
        )


def _grant_and_isolate() -> None:
    schema = _schema()
    op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {APP_ROLE}, {ROUTER_ROLE}")
    op.execute(f"GRANT SELECT ON tenants TO {APP_ROLE}, {ROUTER_ROLE}")
    op.execute(f"GRANT SELECT ON chat_bindings TO {ROUTER_ROLE}")
    op.execute(f"GRANT USAGE ON SEQUENCE chat_bindings_id_seq TO {APP_ROLE}")
    for table in TENANT_TABLES:
        # The ledger is append-only for the application: no UPDATE, DELETE or TRUNCATE.
        privileges = (
            "SELECT, INSERT" if table == "audit_events" else "SELECT, INSERT, UPDATE, DELETE"
        )
        op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}")
        _isolate(table, "tenant_id")
    _isolate("tenants", "id")

    # The router sees every binding and tenant id, and nothing else (its own grants above).
    op.execute(f"CREATE POLICY routing ON chat_bindings FOR SELECT TO {ROUTER_ROLE} USING (true)")
    op.execute(f"CREATE POLICY routing ON tenants FOR SELECT TO {ROUTER_ROLE} USING (true)")


def _isolate(table: str, column: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({column} = {TENANT_EXPR}) WITH CHECK ({column} = {TENANT_EXPR})"
    )


def _create_routing_functions() -> None:
    schema = _schema()
    # An exact channel binding wins over a whole-workspace binding; NULL when unbound.
    op.execute(
        f"""
        CREATE FUNCTION {schema}.fintropy_resolve_chat_tenant(
            p_platform text, p_workspace_id text, p_channel_id text)
        RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp
        AS $$
            SELECT tenant_id FROM {schema}.chat_bindings
            WHERE platform = p_platform AND workspace_id = p_workspace_id
              AND (channel_id = p_channel_id OR channel_id IS NULL)
            ORDER BY channel_id IS NULL
            LIMIT 1
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION {schema}.fintropy_tenant_ids()
        RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp
        AS $$ SELECT id FROM {schema}.tenants ORDER BY id $$
        """
    )
    for signature in ("fintropy_resolve_chat_tenant(text, text, text)", "fintropy_tenant_ids()"):
        function = f"{schema}.{signature}"
        # The new owner needs CREATE on the schema for ALTER OWNER when we are not superuser.
        op.execute(f"GRANT CREATE ON SCHEMA {schema} TO {ROUTER_ROLE}")
        op.execute(f"ALTER FUNCTION {function} OWNER TO {ROUTER_ROLE}")
        op.execute(f"REVOKE CREATE ON SCHEMA {schema} FROM {ROUTER_ROLE}")
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP_ROLE}")


def _schema() -> str:
    bind = op.get_bind()
    name = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    return bind.dialect.identifier_preparer.quote(name)


def downgrade() -> None:
    """Drop everything this revision created except the cluster-wide roles."""
    schema = _schema()
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.fintropy_tenant_ids()")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.fintropy_resolve_chat_tenant(text, text, text)")
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
    op.drop_table("tenants")
    op.execute(f"REVOKE USAGE ON SCHEMA {schema} FROM {APP_ROLE}, {ROUTER_ROLE}")
