"""Teams conversation references, isolated per tenant like every other tenant table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

``teams_conversations`` holds the Bot Framework conversation reference of each Teams channel or
chat the bot was installed in or messaged from, so cards can be posted there proactively.
``fintropy_app`` may SELECT/INSERT/UPDATE/DELETE it; FORCE ROW LEVEL SECURITY keys it on the
same per-transaction tenant setting as revision 0001.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fintropy_app"
TENANT_EXPR = "current_setting('fintropy.tenant_id', true)"
TABLE = "teams_conversations"


def _str(name: str, nullable: bool = False, **kwargs) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable, **kwargs)


def upgrade() -> None:
    """Create the table, grant it to the application role and isolate it by tenant."""
    op.create_table(
        TABLE,
        _str("tenant_id"),
        _str("conversation_id"),
        _str("channel_id"),
        _str("service_url"),
        sa.Column(
            "reference",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=f"{TABLE}_tenant_fk"),
        sa.PrimaryKeyConstraint("tenant_id", "conversation_id"),
    )
    op.create_index("teams_conversations_channel_idx", TABLE, ["tenant_id", "channel_id"])
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {TABLE} TO {APP_ROLE}")
    op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {TABLE} "
        f"USING (tenant_id = {TENANT_EXPR}) WITH CHECK (tenant_id = {TENANT_EXPR})"
    )


def downgrade() -> None:
    """Drop the table (its policy, index and grants go with it)."""
    op.drop_table(TABLE)
