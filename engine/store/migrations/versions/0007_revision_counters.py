"""fewer round trips per command: a revision counter bumped whenever configuration read by every command
changes (the calendar's overrides), so each process keeps its copy and a command checks it inside its first
query; and on each instance the keys of its pending deadlines and a digest of its planned ones, so that a
command reads the deadline rows only when one of them may change (empty: read them at the next command)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "revision",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.bulk_insert(table, [{"name": "calendar", "value": 1}])
    with op.batch_alter_table("instance") as batch_op:
        batch_op.add_column(sa.Column("pending_keys", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("planned_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    # dropped in place: rebuilding ``instance`` (batch mode) would break the foreign keys of every table beside it
    for column in ("planned_digest", "pending_keys"):
        op.execute(f"ALTER TABLE instance DROP COLUMN {column}")
    op.drop_table("revision")
