"""``reviewflow_expect(ok, refusal)`` on PostgreSQL, so that a command's writes can go with its COMMIT
even when they must be checked: the function raises ``refusal`` (SQLSTATE ``RF001``) unless ``ok`` is true,
which fails the statement and with it the whole transaction before its COMMIT runs. A write that must change
exactly one row, and what a command took as read without reading it (engine/store/writes.py), are checked by
the server, not by a round trip back to the client first. SQLite has no round trips to save, and no function.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION reviewflow_expect(ok boolean, refusal text) RETURNS boolean "
            "LANGUAGE plpgsql VOLATILE AS $$ "
            "BEGIN IF ok IS NOT TRUE THEN RAISE EXCEPTION '%', refusal USING ERRCODE = 'RF001'; END IF; "
            "RETURN true; END $$"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION reviewflow_expect(boolean, text)")
