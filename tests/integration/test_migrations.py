"""Schema migrations: head is exactly the models' schema, on SQLite and on PostgreSQL, and a database made
by `create_all` before migrations existed is adopted without losing a row."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from interviewer.store import Store
from interviewer.store.migrate import current_revision, head_revision
from interviewer.store.models import Base
from interviewer.store.repository import make_engine


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_migrations_build_exactly_the_models_schema(store_url: str) -> None:
    store = Store(store_url)
    try:
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
        tables = set(inspect(store.engine).get_table_names())
    finally:
        store.close()
    assert tables == {*Base.metadata.tables, "alembic_version"}
    assert _diff(store_url) == []


def test_autogenerate_compare_sees_a_schema_that_differs(store_url: str) -> None:
    # The comparison above can fail: a column the models do not have is reported.
    store = Store(store_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE worker_beats ADD COLUMN stray INTEGER"))
    finally:
        store.close()
    assert any("stray" in repr(change) for change in _diff(store_url))


def test_a_database_made_by_create_all_is_adopted(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO candidates (uid, created_at) VALUES ('kept', CURRENT_TIMESTAMP)"))
    finally:
        engine.dispose()
    store = Store(store_url)
    try:
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert conn.execute(text("SELECT uid FROM candidates")).scalars().all() == ["kept"]
    finally:
        store.close()
    assert _diff(store_url) == []
