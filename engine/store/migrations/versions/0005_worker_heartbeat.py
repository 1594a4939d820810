"""worker heartbeats: each loop of each worker records when it last finished a pass, for /readyz and
``reviewflow status``

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker", sa.String(length=64), nullable=False),  # engine.services.outbox.worker_name()
        sa.Column("loop", sa.String(length=32), nullable=False),  # timers | outbox
        sa.Column(
            "last_beat", sa.DateTime(timezone=True), nullable=False
        ),  # real time, never the fixed clock
        sa.PrimaryKeyConstraint("worker", "loop"),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeat")
