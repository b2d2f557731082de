"""Alembic environment: migrations run on the connection handed over by ``storage.upgrade``."""

from alembic import context

from analyzer.history.models import Base  # every table of the history is in models

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
