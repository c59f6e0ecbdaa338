"""Opt-in: a short interview against the REAL Gemini Live API, when GOOGLE_API_KEY is set (and only then:
without it this test is reported as skipped, with the reason, and never counts as passed).

The same factory, Agent, tools, guard and store as production, in text mode: the greeting, three answers,
then the end. What a live model says varies, so the checks are about the contract, not the words: it greets,
its tools reach the Director (a question is handed out and asked), every line is stored, and no tool took
effect before the guard opened.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from interviewer.agent.interviewer import InterviewerAgent
from interviewer.agent.runtime import InterviewRuntime
from interviewer.agent.wiring import greet, wire_session
from interviewer.config import load_settings
from interviewer.interview.plans import load_role
from interviewer.store import Store
from interviewer.voice.gemini import build_gemini_session, watchdog_of

KEY = os.environ.get("GOOGLE_API_KEY", "")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not KEY, reason="GOOGLE_API_KEY is not set: the live Gemini test was NOT run"),
]

STEP_TIMEOUT = 45.0
ANSWERS = [
    "Hi, yes, I'm ready.",
    "I'm a backend engineer; for three years I've built the payments API at a fintech in Go and Postgres.",
    "Last year I redesigned our job queue with idempotency keys and retries, and failed payouts fell by 40%.",
]


async def test_a_short_interview_against_the_real_gemini_live_api(tmp_path: Path) -> None:
    settings = load_settings(INTERVIEWER_MODE="test", VOICE_ENGINE="gemini", GOOGLE_API_KEY=KEY)
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    plan = load_role("backend-engineer")
    store.open_interview(
        candidate_uid="uid-live",
        name=None,
        email=None,
        interview_id="iv-live",
        role=plan.id,
        plan=plan.model_dump(mode="json"),
        duration_minutes=10,
        room="room-live",
    )
    runtime = InterviewRuntime.create(store, interview_id="iv-live", plan=plan, duration_minutes=10)
    session = build_gemini_session(settings, plan, 10)
    wire_session(session, runtime)
    try:
        await session.start(InterviewerAgent(runtime))
        await asyncio.wait_for(greet(session, runtime), STEP_TIMEOUT)
        await asyncio.wait_for(runtime.guard.wait_open(), STEP_TIMEOUT)
        for answer in ANSWERS:
            await asyncio.wait_for(session.run(user_input=answer), STEP_TIMEOUT)
    finally:
        await session.aclose()
        if not runtime.ended.is_set():
            runtime.finish("the live test ended")

    watchdog = watchdog_of(session)
    assert watchdog is not None
    print(f"live Gemini: {watchdog.counts}")  # visible with -s: how often the real model stalled
    assert runtime.close(5), "the journal did not land"
    turns = store.turns("iv-live")
    assert [t.text for t in turns if t.speaker == "candidate"] == ANSWERS
    agent_lines = [t.text for t in turns if t.speaker == "agent"]
    assert agent_lines and agent_lines[0].strip(), "the model never greeted"
    events = store.tool_events("iv-live")
    first_answer = next(t for t in turns if t.speaker == "candidate")
    assert all(e.outcome == "refused" for e in events if e.at <= first_answer.ended_at)
    assert any(e.tool == "next_question" and e.outcome == "ok" for e in events), [
        (e.tool, e.outcome) for e in events
    ]
    assert store.get_report("iv-live") is not None
