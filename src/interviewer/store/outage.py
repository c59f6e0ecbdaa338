"""Which database errors pass: the database is away or busy (restarting, a dropped connection, SQLite
locked), not the request wrong. Such a write is worth retrying, and such a request worth answering "try
again shortly" rather than "internal error"."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError


def is_transient(error: BaseException) -> bool:
    if isinstance(error, OperationalError):
        return True  # refused, shutting down, starting up, "database is locked"
    return isinstance(error, DBAPIError) and error.connection_invalidated
