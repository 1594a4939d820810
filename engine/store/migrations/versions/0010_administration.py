"""administration in the browser: invitations, password resets, named recipients and the agency directory kept
in the database, a name on each API token, and the reason an outbox message was cancelled

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(120), nullable=True))
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.add_column(sa.Column("cancelled_reason", sa.Text(), nullable=True))
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("invited_by", sa.String(120), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("accepted_at", nullable=True),
        _when("revoked_at", nullable=True),
    )
    op.create_index("ix_invitation_user_id", "invitation", ["user_id"])
    op.create_table(
        "password_reset",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
    )
    op.create_index("ix_password_reset_user_id", "password_reset", ["user_id"])
    op.create_table(
        "named_recipient",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("addresses", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("updated_by", sa.String(120), nullable=False),
        _when("updated_at"),
    )
    op.create_table(
        "directory_agency",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(120), nullable=False),
        sa.Column("safeguarding_lead", sa.String(320), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
        _when("updated_at"),
    )


def downgrade() -> None:
    op.drop_table("directory_agency")
    op.drop_table("named_recipient")
    op.drop_index("ix_password_reset_user_id", table_name="password_reset")
    op.drop_table("password_reset")
    op.drop_index("ix_invitation_user_id", table_name="invitation")
    op.drop_table("invitation")
    # dropped in place: rebuilding a table (batch mode) would break the foreign keys of the tables beside it
    op.execute("ALTER TABLE outbox_message DROP COLUMN cancelled_reason")
    op.execute("ALTER TABLE api_token DROP COLUMN name")
