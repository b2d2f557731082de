"""Alembic environment: migrations run on the connection handed over by ``storage.upgrade``."""

from alembic import context

import analyzer.history.photos  # noqa: F401  (the photo table joins Base.metadata)
from analyzer.history import accounts  # noqa: F401  (its tables join Base.metadata)
from analyzer.history.storage import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
