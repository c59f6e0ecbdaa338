"""A Postgres restart in the middle of an interview delays its journal and loses nothing: a real PostgreSQL
of its own (the session's is shared), stopped the way `pg_ctl stop -m fast` does while the interview goes on
writing, then started again on the same data directory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from interviewer.agent.journal import Journal
from interviewer.datastores import (
    DATABASE,
    LOOPBACK,
    POSTGRES_USER,
    PostgresConfig,
    build_postgres,
    remove_dir,
    stop_postgres,
    wait_postgres,
)
from interviewer.procs import ManagedProcess, group_alive
from interviewer.store import Store

pytestmark = pytest.mark.integration


@pytest.fixture
def postgres() -> Iterator[tuple[ManagedProcess, PostgresConfig]]:
    process, config = build_postgres(durable=False)
    pgids: list[int] = []
    try:
        process.start()
        pgids.append(process.pgid)
        wait_postgres(process, config)
        yield process, config
        pgids.append(process.pgid)  # restarted: a new group
    finally:
        if process.proc is not None:
            stop_postgres(process)
        remove_dir(config.base_dir)
        assert not any(group_alive(pgid) for pgid in pgids), "postgres survived its stop"


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # stored as UTC without a zone


def answers(config: PostgresConfig) -> bool:
    try:
        with psycopg.connect(host=LOOPBACK, port=config.port, user=POSTGRES_USER, dbname=DATABASE):
            return True
    except psycopg.OperationalError:  # refused, or "the database system is starting up"
        return False


def test_the_journal_lands_every_entry_through_a_postgres_restart(
    postgres: tuple[ManagedProcess, PostgresConfig],
) -> None:
    process, config = postgres
    store = Store(config.url)
    journal = Journal(store, "iv-1")
    try:
        store.open_interview(
            candidate_uid="uid-1",
            name=None,
            email=None,
            interview_id="iv-1",
            role="backend-engineer",
            plan={},
            duration_minutes=20,
            room="room-1",
        )
        journal.turn("agent", "Tell me about a system you designed.", "system-design-1")
        assert journal.flush(10)

        assert stop_postgres(process) is not None
        said_while_down = datetime.now(UTC)
        journal.turn("candidate", "I designed a ledger for payments.", "system-design-1")
        journal.tool_event("record_answer", {"question_id": "system-design-1"}, "ok")
        journal.turn("agent", "How did it handle failures?", "system-design-1")
        assert not journal.flush(1.0), "the journal landed while its database was down"
        assert journal.retries > 0 and journal.pending == 3

        restarted_at = datetime.now(UTC)
        process.start()
        process.wait_until(lambda: answers(config), 30, "postgres to answer again")
        assert journal.flush(30), "the journal did not land once postgres was back"

        turns = store.turns("iv-1")
        assert [(t.seq, t.speaker, t.text) for t in turns] == [
            (1, "agent", "Tell me about a system you designed."),
            (2, "candidate", "I designed a ledger for payments."),
            (3, "agent", "How did it handle failures?"),
        ]
        # Each keeps the instant it was said, while postgres was down, not the instant it landed.
        assert said_while_down <= aware(turns[1].ended_at) <= aware(turns[2].ended_at) < restarted_at
        events = store.tool_events("iv-1")
        assert [(e.tool, e.outcome) for e in events] == [("record_answer", "ok")]
        assert aware(turns[1].ended_at) <= aware(events[0].at) <= aware(turns[2].ended_at)
    finally:
        journal.close(1)
        store.close()
