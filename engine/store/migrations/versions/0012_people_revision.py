"""a revision counter for the people who can be e-mailed about a task ("people"), bumped by the database itself
whenever a person is added or removed, is enabled or disabled, changes address or e-mail preference, or gains
or loses a role: a command that creates a task reuses its process's copy of who holds each role until the
number moves, however the change was made (the pages, the command line, a hand-made repair).

A later migration that rebuilds ``app_user`` or ``user_role`` in SQLite's batch mode must create these
triggers again.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BUMP = "UPDATE revision SET value = value + 1 WHERE name = 'people'"
# what makes a person e-mailable about a task (engine/services/task_mail.py): being there, active, an address,
# the preference, and the roles they hold
PERSON_COLUMNS = "active, email, new_task_emails"
SQLITE_TRIGGERS = {
    "people_user_added": "AFTER INSERT ON app_user",
    "people_user_changed": f"AFTER UPDATE OF {PERSON_COLUMNS} ON app_user",
    "people_user_removed": "AFTER DELETE ON app_user",
    "people_role_added": "AFTER INSERT ON user_role",
    "people_role_changed": "AFTER UPDATE ON user_role",
    "people_role_removed": "AFTER DELETE ON user_role",
}


def upgrade() -> None:
    table = sa.table("revision", sa.column("name", sa.String), sa.column("value", sa.Integer))
    op.bulk_insert(table, [{"name": "people", "value": 1}])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, when in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} BEGIN {BUMP}; END")
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION people_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {BUMP}; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER people_user_changed AFTER INSERT OR DELETE OR UPDATE OF {PERSON_COLUMNS} "
            "ON app_user FOR EACH STATEMENT EXECUTE FUNCTION people_changed()"
        )
        op.execute(
            "CREATE TRIGGER people_role_changed AFTER INSERT OR DELETE OR UPDATE ON user_role "
            "FOR EACH STATEMENT EXECUTE FUNCTION people_changed()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER people_user_changed ON app_user")
        op.execute("DROP TRIGGER people_role_changed ON user_role")
        op.execute("DROP FUNCTION people_changed()")
    op.execute("DELETE FROM revision WHERE name = 'people'")
