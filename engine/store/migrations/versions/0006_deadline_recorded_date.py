"""deadlines judged on recorded dates: the date the act was recorded as done (sent, published, met), kept on
the deadline it was judged by (003 §3.4, §4.6, §7.7-7.8)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deadline") as batch_op:
        batch_op.add_column(sa.Column("recorded_date", sa.Date(), nullable=True))  # the rule's recorded_by


def downgrade() -> None:
    with op.batch_alter_table("deadline") as batch_op:
        batch_op.drop_column("recorded_date")
