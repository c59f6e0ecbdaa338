"""The Greeting Guard and the runtime, against a real SQLite store."""

from pathlib import Path

import pytest

from interviewer.agent.guard import GreetingGuard, GuardClosed
from interviewer.agent.runtime import InterviewRuntime, ToolRefused
from interviewer.interview.plans import load_role
from interviewer.store import Store
from tests.fixtures.interviews import open_interview


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    open_interview(store)
    return store


@pytest.fixture
def runtime(store: Store) -> InterviewRuntime:
    return InterviewRuntime.create(
        store, interview_id="iv-1", plan=load_role("backend-engineer"), duration_minutes=20
    )


def test_guard_opens_only_after_greeting_and_listening() -> None:
    guard = GreetingGuard()
    guard.agent_state_changed("listening")
    assert not guard.is_open, "listening before the greeting finished must not open"
    guard.agent_state_changed("speaking")
    guard.greeting_finished()
    assert not guard.is_open, "greeting done while still speaking must not open"
    guard.agent_state_changed("listening")
    assert guard.is_open
    guard.agent_state_changed("speaking")
    assert guard.is_open, "once open it stays open"


def test_closed_guard_refuses_every_tool_without_side_effects(
    runtime: InterviewRuntime, store: Store
) -> None:
    runtime.candidate_said("Hello there, can we start with the questions?")
    with pytest.raises(GuardClosed):
        runtime.next_question()
    with pytest.raises(GuardClosed):
        runtime.record_answer("warmup-intro", "summary", 3)
    with pytest.raises(GuardClosed):
        runtime.end_interview("done")
    assert runtime.director.asked_question_ids == ()
    assert runtime.director.answers == []
    assert runtime.report is None and store.get_report("iv-1") is None
    assert runtime.journal.flush(5)
    events = store.tool_events("iv-1")
    assert [(e.tool, e.outcome) for e in events] == [
        ("next_question", "refused"),
        ("record_answer", "refused"),
        ("end_interview", "refused"),
    ]
    assert runtime.guard.refused == 3


def test_tools_work_once_open_and_reject_wrong_question(runtime: InterviewRuntime, store: Store) -> None:
    runtime.guard.greeting_finished()
    runtime.guard.agent_state_changed("listening")
    step = runtime.next_question()
    assert step.question_id == "warmup-intro"
    with pytest.raises(ToolRefused, match="not answered"):
        runtime.record_answer("warmup-intro", "nothing yet", 3)
    runtime.candidate_said("I build payment systems in Go.")
    with pytest.raises(ToolRefused, match="warmup-intro"):
        runtime.record_answer("system-design-1", "wrong id", 3)
    runtime.record_answer("warmup-intro", "builds payments", 3)
    assert runtime.director.answers[0].text == "I build payment systems in Go."


def test_every_turn_is_in_the_database_once_the_journal_has_landed(
    runtime: InterviewRuntime, store: Store, tmp_path: Path
) -> None:
    runtime.agent_said("Hello, welcome.")
    runtime.candidate_said("Thanks, happy to be here.")
    assert runtime.close(5)
    other = Store(store.url)  # a second connection, as a different process would read it
    assert [(t.speaker, t.text) for t in other.turns("iv-1")] == [
        ("agent", "Hello, welcome."),
        ("candidate", "Thanks, happy to be here."),
    ]


def test_finish_stores_report_once(runtime: InterviewRuntime, store: Store) -> None:
    first = runtime.finish("time is up")
    second = runtime.finish("another reason")
    assert first is second
    stored = store.get_report("iv-1")
    assert stored is not None and stored.report["end_reason"] == "time is up"
    interview = store.get_interview("iv-1")
    assert interview is not None and interview.status == "finished"
