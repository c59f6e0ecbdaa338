"""The server refuses to resume: a fresh Gemini session takes over, primed with a recap from the store.

The Gemini engine against FakeGeminiLive (a named fake of the Live API wire protocol over TLS; Gemini cannot
be reached from here) taught to refuse a resumption handle, in a real text-mode AgentSession with the real
Agent, tools, guard and store. Mid-interview the connection ends (goAway); the reconnect presents its
handle and the server closes the socket before `setupComplete`. livekit-plugins-google alone would end the
interview there. The engine must dial again without the handle, with instructions that recap the interview
(so the model knows the open question_id), and the interview must carry on to its report, no turn lost.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from interviewer.agent.interviewer import InterviewerAgent
from interviewer.agent.wiring import greet
from tests.fakes.gemini_live import CallTool, FakeGeminiLive, GoAway, Say
from tests.integration.gemini_interview import (
    ASK,
    GREETING,
    NEXT,
    RECORD,
    instructions_of,
    last_question,
    start_interview,
)

pytestmark = pytest.mark.integration

STEP_TIMEOUT = 20.0
ANSWERS = [
    "Hi, happy to be here.",
    "I work on the payments backend at a fintech, mostly Go and Postgres, for four years now.",
    "I designed our ledger service: I split writes by account, and p99 latency fell from 900 to 120 ms.",
]
SCRIPT = [
    [Say(GREETING)],  # connection 0
    [NEXT, ASK, GoAway()],  # connection 0: the warm-up question, then the connection ends
    # connection 1 presents its handle and is refused; connection 2 is the fresh session
    [RECORD, NEXT, ASK],
    [
        RECORD,
        Say("Thank you, that is all for today. Goodbye."),
        CallTool("end_interview", {"reason": "done"}),
    ],
]


async def test_a_refused_resumption_starts_a_fresh_session_primed_with_the_interview_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeGeminiLive(SCRIPT, refuse_resumption_at=frozenset({1}))
    interview = await start_interview(
        fake, tmp_path, monkeypatch, interview_id="iv-refused", duration_minutes=20
    )
    session, runtime = interview.session, interview.runtime
    try:
        await session.start(InterviewerAgent(runtime))
        await asyncio.wait_for(greet(session, runtime), STEP_TIMEOUT)
        await asyncio.wait_for(runtime.guard.wait_open(), STEP_TIMEOUT)
        await asyncio.wait_for(session.run(user_input=ANSWERS[0]), STEP_TIMEOUT)
        warmup = last_question(fake.tool_responses)
        await asyncio.wait_for(fake.wait_connections(3), STEP_TIMEOUT)
        await asyncio.wait_for(session.run(user_input=ANSWERS[1]), STEP_TIMEOUT)
        await asyncio.wait_for(session.run(user_input=ANSWERS[2]), STEP_TIMEOUT)
        await asyncio.wait_for(runtime.ended.wait(), STEP_TIMEOUT)
    finally:
        await session.aclose()
        await fake.stop()

    # Refused, then fresh: the resumption presented the newest handle, the fresh setup presented none.
    assert fake.refused == [1]
    assert fake.resumed_with == [None, fake.handles[-3], None], (fake.resumed_with, fake.handles)
    assert interview.model.fresh_starts == 1
    assert len(fake.setups) == 3

    # The fresh session's instructions carry the recap: the question open and its id, what was said.
    first, fresh = instructions_of(fake.setups[0]), instructions_of(fake.setups[2])
    assert "already under way" not in first
    assert fresh.startswith(first), "the recap is added to the interviewer's instructions, not instead"
    recap = fresh[len(first) :]
    assert "Do not greet the candidate again" in recap
    assert f"question_id {warmup['question_id']!r}" in recap
    assert ANSWERS[0] not in recap  # the reply to the greeting answers no question
    assert warmup["question_id"] in recap and "/ (no answer yet)" in recap

    # The answer given after the refusal reached the model once, on the fresh session, never on the
    # refused connection; the earlier lines came with it as history (a fresh session knows nothing).
    assert interview.texts_on(1) == []
    assert interview.texts_on(2).count(ANSWERS[1]) == 1, fake.texts
    assert ANSWERS[0] in interview.texts_on(2)

    # No turn lost, the answer recorded against the right question, and the report stored.
    assert interview.runtime.close(5), "the journal did not land"
    events = [(e.tool, e.outcome) for e in interview.store.tool_events("iv-refused")]
    assert events == [
        ("next_question", "ok"),
        ("record_answer", "ok"),
        ("next_question", "ok"),
        ("record_answer", "ok"),
        ("end_interview", "ok"),
    ], events
    recorded = [e.arguments["question_id"] for e in interview.store.tool_events("iv-refused")[1:2]]
    assert recorded == [warmup["question_id"]]
    assert interview.candidate_lines() == ANSWERS
    assert interview.store.get_report("iv-refused") is not None
