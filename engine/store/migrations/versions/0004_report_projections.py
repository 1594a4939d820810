"""projections for the managers' reports: where each open case stands, when it became overdue, and a
daily tally of deadlines met and missed; indexes that fit each page's query

Revision ID: 0004
Revises: 0003
"""

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN_STATUSES = ("running", "waiting", "error", "suspended")


def upgrade() -> None:
    with op.batch_alter_table("instance") as batch_op:
        batch_op.add_column(sa.Column("next_due", sa.Date(), nullable=True))  # earliest due open task
        batch_op.add_column(sa.Column("missed_due", sa.Date(), nullable=True))  # earliest missed deadline
        batch_op.add_column(sa.Column("overdue_from", sa.Date(), nullable=True))  # open and overdue from
    op.drop_index("ix_instance_process", table_name="instance")
    op.create_index("ix_instance_process_status", "instance", ["process_id", "status", "id"])
    op.create_index("ix_instance_process_id", "instance", ["process_id", "id"])
    op.create_index("ix_instance_overdue_from", "instance", ["overdue_from"])
    op.create_index("ix_instance_created_at", "instance", ["created_at"])
    op.drop_index("ix_deadline_status_due", table_name="deadline")
    op.create_index("ix_deadline_status_due_id", "deadline", ["status", "due_date", "id"])
    op.create_index("ix_deadline_due_id", "deadline", ["due_date", "id"])
    op.create_table(
        "instance_step",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=255), nullable=False),
        sa.Column("process_id", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.PrimaryKeyConstraint("instance_id", "step"),
    )
    op.create_index("ix_instance_step_step", "instance_step", ["step", "instance_id"])
    op.create_index("ix_instance_step_process", "instance_step", ["process_id", "step"])
    op.create_table(
        "deadline_tally",
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("met", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "due_date"),
    )
    op.create_index("ix_deadline_tally_due", "deadline_tally", ["due_date"])
    _backfill()


def _backfill() -> None:
    """Existing cases get the projections a command would have written for them."""
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE instance SET next_due = (SELECT min(h.due_date) FROM human_task h "
            "WHERE h.instance_id = instance.id AND h.state = 'open')"
        )
    )
    conn.execute(
        sa.text(  # a deadline planned but not armed yet counts too
            "UPDATE instance SET next_due = (SELECT min(d.due_date) FROM deadline d "
            "WHERE d.instance_id = instance.id AND d.status = 'planned') "
            "WHERE EXISTS (SELECT 1 FROM deadline d WHERE d.instance_id = instance.id AND d.status = 'planned' "
            "AND (instance.next_due IS NULL OR d.due_date < instance.next_due))"
        )
    )
    conn.execute(
        sa.text(
            "UPDATE instance SET missed_due = (SELECT min(d.due_date) FROM deadline d "
            "WHERE d.instance_id = instance.id AND d.status = 'missed')"
        )
    )
    statuses = sa.bindparam("statuses", OPEN_STATUSES, expanding=True)
    open_cases = conn.execute(
        sa.text(
            "SELECT id, process_id, active_steps, next_due, missed_due FROM instance WHERE status IN :statuses"
        ).bindparams(statuses)
    ).all()
    steps, overdue = [], []
    for row in open_cases:
        active = row.active_steps
        if isinstance(active, str):  # a plain SELECT hands JSON back as text
            active = json.loads(active)
        steps += [
            {"instance_id": row.id, "step": step[:255], "process_id": row.process_id}
            for step in sorted(set(active or []))
        ]
        days = [_day(d) for d in (row.next_due, row.missed_due) if d is not None]
        if days:
            overdue.append({"id": row.id, "day": min(days) + dt.timedelta(days=1)})
    if steps:
        conn.execute(
            sa.text(
                "INSERT INTO instance_step (instance_id, step, process_id) "
                "VALUES (:instance_id, :step, :process_id)"
            ),
            steps,
        )
    if overdue:
        conn.execute(
            sa.text("UPDATE instance SET overdue_from = :day WHERE id = :id").bindparams(
                sa.bindparam("day", type_=sa.Date())
            ),
            overdue,
        )
    conn.execute(
        sa.text(
            "INSERT INTO deadline_tally (key, due_date, name, met, missed) "
            "SELECT key, due_date, max(name), "
            "sum(CASE WHEN status = 'met' THEN 1 ELSE 0 END), sum(CASE WHEN status = 'missed' THEN 1 ELSE 0 END) "
            "FROM deadline WHERE status IN ('met', 'missed') GROUP BY key, due_date"
        )
    )


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def downgrade() -> None:
    op.drop_index("ix_deadline_tally_due", table_name="deadline_tally")
    op.drop_table("deadline_tally")
    op.drop_index("ix_instance_step_process", table_name="instance_step")
    op.drop_index("ix_instance_step_step", table_name="instance_step")
    op.drop_table("instance_step")
    op.drop_index("ix_deadline_due_id", table_name="deadline")
    op.drop_index("ix_deadline_status_due_id", table_name="deadline")
    op.create_index("ix_deadline_status_due", "deadline", ["status", "due_date"])
    op.drop_index("ix_instance_created_at", table_name="instance")
    op.drop_index("ix_instance_overdue_from", table_name="instance")
    op.drop_index("ix_instance_process_id", table_name="instance")
    op.drop_index("ix_instance_process_status", table_name="instance")
    op.create_index("ix_instance_process", "instance", ["process_id", "status"])
    # dropped in place: rebuilding ``instance`` (batch mode) would break the foreign keys of every table beside it
    for column in ("overdue_from", "missed_due", "next_due"):
        op.execute(f"ALTER TABLE instance DROP COLUMN {column}")
