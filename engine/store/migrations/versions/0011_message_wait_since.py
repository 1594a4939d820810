"""when a case began waiting for each answer from outside (message_wait.since), so the pages listing what cases
wait for read it from the row instead of opening each case's workflow; waits already open take the time of
their case's last completed step, else the case's start

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_wait") as batch_op:
        batch_op.add_column(sa.Column("since", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE message_wait SET since = COALESCE("
        "(SELECT MAX(h.completed_at) FROM human_task h WHERE h.instance_id = message_wait.instance_id), "
        "(SELECT i.created_at FROM instance i WHERE i.id = message_wait.instance_id))"
    )


def downgrade() -> None:
    # dropped in place: rebuilding a table (batch mode) would break the foreign keys of the tables beside it
    op.execute("ALTER TABLE message_wait DROP COLUMN since")
