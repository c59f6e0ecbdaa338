"""`python -m interviewer.store [upgrade|current]`: bring the configured database (DATABASE_URL) to the
newest schema by hand, or print its revision. Every process also upgrades when it opens the store."""

from __future__ import annotations

import sys

from interviewer.config import load_settings
from interviewer.store.migrate import current_revision, head_revision, upgrade_schema
from interviewer.store.repository import make_engine


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    action = args[0] if args else "upgrade"
    if action not in ("upgrade", "current"):
        print("usage: python -m interviewer.store [upgrade|current]", file=sys.stderr)
        return 2
    engine = make_engine(load_settings().resolved_database_url)
    try:
        if action == "upgrade":
            upgrade_schema(engine)
        with engine.connect() as conn:
            print(f"database at revision {current_revision(conn)} (head {head_revision()})")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
