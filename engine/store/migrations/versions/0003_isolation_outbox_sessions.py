"""failure isolation, a leased outbox, unique case references, server-side sessions, sign-in limits, MFA

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instance") as batch_op:
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
    # one case reference, one case: processes a case is handed over to share it with their parent
    op.create_index(
        "uq_instance_case_reference",
        "instance",
        ["business_key"],
        unique=True,
        postgresql_where=sa.text("parent_instance_id IS NULL"),
        sqlite_where=sa.text("parent_instance_id IS NULL"),
    )
    with op.batch_alter_table("outbox_message") as batch_op:
        # a message being sent: who holds it and until when (the real clock, never the fixed one)
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_lease", ["status", "lease_expires_at"])
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("mfa_enrolled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "mfa_recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mfa_recovery_code_user_id", "mfa_recovery_code", ["user_id"])
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(length=64), nullable=False),  # SHA-256 of the cookie's token
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_session_user_id", "web_session", ["user_id", "ended_at"])
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),  # "u:<name>" or "a:<address>"
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_failure_key_at", "sign_in_failure", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_failure_key_at", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
    op.drop_index("ix_web_session_user_id", table_name="web_session")
    op.drop_table("web_session")
    op.drop_index("ix_mfa_recovery_code_user_id", table_name="mfa_recovery_code")
    op.drop_table("mfa_recovery_code")
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("mfa_enrolled_at")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.drop_index("ix_outbox_lease")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
    op.drop_index("uq_instance_case_reference", table_name="instance")
    with op.batch_alter_table("instance") as batch_op:
        batch_op.drop_column("failed_at")
