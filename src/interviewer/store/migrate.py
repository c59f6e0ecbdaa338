"""Schema migrations (Alembic, scripts in store/migrations/): every process upgrades to head when it opens
the store, and `python -m interviewer.store [upgrade|current]` does it by hand.

The api, the agent worker and tools open the same database at start-up, so several processes can find it
behind head at once. The check-and-upgrade runs under the database-wide lock of `locks.py`, inside the
transaction that also holds the DDL (transactional on SQLite and on Postgres, so Alembic runs in that
transaction instead of opening its own): openers take turns, and each later one finds the schema at head.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from interviewer.store import locks

SCRIPTS = Path(__file__).with_name("migrations")
# Alembic's `context` and `op` are module-level proxies: one upgrade at a time per process, whatever the
# database (two threads upgrading two databases would otherwise share them).
_IN_PROCESS = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to head. Cheap when it is there already: one read, no lock."""
    with engine.connect() as conn:
        if current_revision(conn) == head_revision():
            return
    with _IN_PROCESS, engine.connect() as conn:
        locks.hold_until_commit(conn, locks.SCHEMA_UPGRADE)
        # Alembic sees the transaction already open and runs inside it; it reads the version under the lock.
        command.upgrade(alembic_config(conn), "head")
        conn.commit()
