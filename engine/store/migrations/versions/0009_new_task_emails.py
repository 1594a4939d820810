"""a person's choice to be told of new tasks by e-mail (on unless they turn it off)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(
            sa.Column("new_task_emails", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    # dropped in place: rebuilding ``app_user`` (batch mode) would break the foreign keys of the tables beside it
    op.execute("ALTER TABLE app_user DROP COLUMN new_task_emails")
