"""A Postgres restart in the middle of an interview delays its journal and loses nothing: a real PostgreSQL
of its own (the session's is shared), stopped the way `pg_ctl stop -m fast` does while the interview goes on
writing, then started again on the same data directory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from interviewer.agent.journal import Journal
from interviewer.datastores import stop_postgres
from interviewer.store import Store
from tests.fixtures.interviews import aware, open_interview
from tests.fixtures.postgres import OwnPostgres

pytestmark = pytest.mark.integration


def test_the_journal_lands_every_entry_through_a_postgres_restart(own_postgres: OwnPostgres) -> None:
    process, config = own_postgres.process, own_postgres.config
    store = Store(config.url)
    journal = Journal(store, "iv-1")
    try:
        open_interview(store)
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
        own_postgres.start_again()
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
