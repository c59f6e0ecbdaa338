"""A database-wide lock held until the current transaction ends, for steps every process must take one at
a time (a schema upgrade; admitting a candidate against the fleet's free slots).

- SQLite: `BEGIN IMMEDIATE` takes the database's one write lock; the others wait in busy_timeout.
- Postgres: `pg_advisory_xact_lock(key)`, released by the commit or the rollback.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# Any fixed 64-bit keys: they name our locks among the database's advisory locks.
SCHEMA_UPGRADE = 0x1E7E_C0DE_0012
ADMISSION = 0x1E7E_C0DE_0013


def hold_until_commit(conn: Connection, key: int) -> None:
    """Call first in the transaction: on SQLite the lock must be taken before anything is read."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
