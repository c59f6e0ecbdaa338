"""The interview journal against a real SQLite store: order, the instants things happened, and what it does
with a write that can never land. (Landing through a Postgres restart: tests/integration/test_journal.py.)"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from interviewer.agent.journal import Journal
from interviewer.store import Store
from interviewer.store.outage import is_transient
from tests.fixtures.interviews import aware, open_interview


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    open_interview(store)
    yield store
    store.close()


class SteppingClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=7)
        return self.now


def test_entries_land_in_order_with_the_instant_they_happened(store: Store) -> None:
    long_ago = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    journal = Journal(store, "iv-1", clock=SteppingClock(long_ago))
    journal.turn("agent", "Hello, welcome.", None)
    journal.tool_event("next_question", {}, "ok", "ask")
    journal.turn("candidate", "Thanks, happy to be here.", "warmup-intro")
    journal.tool_event("record_answer", {"question_id": "warmup-intro"}, "ok")
    assert journal.close(5)
    assert journal.pending == 0

    turns = store.turns("iv-1")
    assert [(t.seq, t.speaker, t.text, t.question_id) for t in turns] == [
        (1, "agent", "Hello, welcome.", None),
        (2, "candidate", "Thanks, happy to be here.", "warmup-intro"),
    ]
    # Stamped when they happened, not when the thread wrote them: a take-over replays by these.
    assert [aware(t.ended_at) for t in turns] == [
        long_ago + timedelta(seconds=7),
        long_ago + timedelta(seconds=21),
    ]
    events = store.tool_events("iv-1")
    assert [(e.tool, e.outcome, e.detail) for e in events] == [
        ("next_question", "ok", "ask"),
        ("record_answer", "ok", None),
    ]
    assert [aware(e.at) for e in events] == [
        long_ago + timedelta(seconds=14),
        long_ago + timedelta(seconds=28),
    ]


def test_a_write_that_can_never_land_is_reported_and_the_rest_still_land(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    stray = Journal(store, "no-such-interview")  # the foreign key refuses it: retrying cannot help
    with caplog.at_level(logging.ERROR, logger="interviewer.agent.journal"):
        stray.turn("candidate", "lost words", None)
        assert stray.close(5)
    assert "could not be written" in caplog.text
    assert stray.retries == 0

    journal = Journal(store, "iv-1")
    journal.turn("candidate", "kept words", None)
    assert journal.close(5)
    assert [t.text for t in store.turns("iv-1")] == ["kept words"]


def test_a_closed_journal_takes_a_later_write_and_lands_it(store: Store) -> None:
    journal = Journal(store, "iv-1")
    journal.turn("agent", "Goodbye.", None)
    assert journal.close(5)
    journal.turn("candidate", "Bye!", None)  # e.g. the session's last words, after the job closed it
    assert journal.close(5)
    assert [t.text for t in store.turns("iv-1")] == ["Goodbye.", "Bye!"]


def test_which_errors_are_worth_retrying() -> None:
    refused = OperationalError("INSERT", {}, Exception("connection refused"))
    locked = OperationalError("INSERT", {}, Exception("database is locked"))
    duplicate = IntegrityError("INSERT", {}, Exception("violates foreign key constraint"))
    assert is_transient(refused) and is_transient(locked)
    assert not is_transient(duplicate)
    assert not is_transient(ValueError("a bug"))
