"""Alembic environment: uses the engine handed in by :meth:`Database.upgrade`."""

from alembic import context

from engine.store.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
