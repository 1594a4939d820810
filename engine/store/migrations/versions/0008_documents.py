"""documents attached to a case or to one of its steps, kept in the database with the case (content as a
large binary; lists read the metadata only)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("instance.id"), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("element_id", sa.String(120), nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(120), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(120), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_document_instance", "document", ["instance_id", "id"])
    op.create_index("ix_document_task", "document", ["task_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_document_task", table_name="document")
    op.drop_index("ix_document_instance", table_name="document")
    op.drop_table("document")
