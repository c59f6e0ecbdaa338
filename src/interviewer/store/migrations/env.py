"""Alembic's environment: always run on the connection `interviewer.store.migrate` hands in (inside its
lock and transaction), never on a URL of its own, so every process upgrades the same way."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from interviewer.store.models import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through interviewer.store.migrate or `python -m interviewer.store`")

context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
