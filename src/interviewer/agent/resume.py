"""Rebuild a live interview from the store, so another job can take it over where its dead job left it.

The store is the interview's journal: every candidate utterance (a `Turn`) and every tool call that took
effect (a `ToolEvent`) was written the moment it happened. Replaying them, in the order they happened and at
the times they happened, through a fresh `InterviewRuntime` puts the Director exactly where it was (it is
pure and deterministic). Nothing is written while replaying: the past is already stored.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from interviewer.agent.guard import GreetingGuard
from interviewer.agent.journal import NoWrites
from interviewer.agent.runtime import InterviewRuntime, ToolRefused
from interviewer.interview.plans import RolePlan
from interviewer.store import Interview, Store
from interviewer.store.models import utcnow


class _Clock:
    """Replays stored instants, then runs on from the last of them in real time."""

    def __init__(self) -> None:
        self._replayed: float | None = 0.0
        self._base = 0.0

    def replay_at(self, seconds: float) -> None:
        self._replayed = seconds

    def run_from(self, seconds: float) -> None:
        self._base = time.monotonic() - seconds
        self._replayed = None

    def __call__(self) -> float:
        if self._replayed is not None:
            return self._replayed
        return time.monotonic() - self._base


@dataclass(frozen=True)
class _Event:
    at: datetime
    order: int  # stored turns and tool events interleave by time; within one instant, turns first
    kind: str
    payload: dict[str, Any]


def _journal(store: Store, interview_id: str) -> list[_Event]:
    events = [
        _Event(turn.ended_at, 0, "candidate", {"text": turn.text})
        for turn in store.turns(interview_id)
        if turn.speaker == "candidate"
    ]
    events += [
        _Event(event.at, 1, event.tool, dict(event.arguments))
        for event in store.tool_events(interview_id)
        if event.outcome == "ok"
    ]
    return sorted(events, key=lambda e: (_aware(e.at), e.order))


def _aware(at: datetime) -> float:
    # SQLite hands datetimes back without their zone; they were stored in UTC.
    return at.timestamp() if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo).timestamp()


@contextlib.contextmanager
def _replaying(runtime: InterviewRuntime) -> Iterator[None]:
    writes, guard = runtime.writes, runtime.guard
    runtime.writes = NoWrites()
    runtime.guard = GreetingGuard()
    runtime.guard.greeting_finished()
    runtime.guard.agent_state_changed("listening")
    try:
        yield
    finally:
        runtime.writes, runtime.guard = writes, guard


def resume_runtime(store: Store, interview: Interview) -> InterviewRuntime:
    """The runtime of a live interview, as it was after the last stored event. Its guard is closed: the
    job that resumes speaks first (the apology), then listens, exactly as after a greeting."""
    clock = _Clock()
    runtime = InterviewRuntime.create(
        store,
        interview_id=interview.id,
        plan=RolePlan.model_validate(interview.plan),
        duration_minutes=interview.duration_minutes,
        clock=clock,
    )
    started = _aware(interview.started_at or interview.created_at)
    with _replaying(runtime):
        for event in _journal(store, interview.id):
            clock.replay_at(max(0.0, _aware(event.at) - started))
            with contextlib.suppress(ToolRefused):
                _apply(runtime, event)
    clock.run_from(max(0.0, utcnow().timestamp() - started))
    return runtime


def _apply(runtime: InterviewRuntime, event: _Event) -> None:
    if event.kind == "candidate":
        runtime.candidate_said(str(event.payload["text"]))
    elif event.kind == "next_question":
        runtime.next_question()
    elif event.kind == "silence":
        runtime.silence(float(event.payload.get("seconds", 0.0)))
    elif event.kind == "interrupt":
        runtime.interrupt()
    elif event.kind == "record_answer":
        score = event.payload.get("score")
        runtime.record_answer(
            str(event.payload.get("question_id", "")),
            str(event.payload.get("summary", "")),
            int(score) if score is not None else None,
        )


def where_we_were(runtime: InterviewRuntime) -> str | None:
    """The question the candidate was answering when the connection was lost, if any."""
    current = runtime.director.current
    return current.text if current is not None else None
