"""Long interviews survive reconnects: the Gemini engine against FakeGeminiLive (a named fake of the Live API
wire protocol over TLS; Gemini cannot be reached from here), in a real text-mode AgentSession with the real
Agent, tools, guard and store.

Mid-interview the server says goAway and closes the socket, as the Live API does when a connection reaches
its lifetime. The session must reconnect presenting the newest resumption handle, the candidate's next answer
must reach the model on the new connection (once), and the interview must carry on with no turn lost.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from interviewer.agent.interviewer import InterviewerAgent
from interviewer.agent.wiring import greet
from tests.fakes.gemini_live import CallTool, FakeGeminiLive, GoAway, Say
from tests.integration.gemini_interview import last_question, start_interview

pytestmark = pytest.mark.integration

STEP_TIMEOUT = 20.0
GREETING = "Hello, I am Alex, I will be interviewing you today for about twenty minutes."
ANSWERS = [
    "Hi, happy to be here.",
    "I work on the payments backend at a fintech, mostly Go and Postgres.",
]


ASK = Say(lambda r: str(last_question(r)["text"]))
RECORD = CallTool(
    "record_answer",
    lambda r: {"question_id": last_question(r)["question_id"], "summary": "Payments backend.", "score": 3},
)
SCRIPT = [
    [Say(GREETING)],
    [CallTool("next_question"), ASK, GoAway()],
    [RECORD, CallTool("next_question"), ASK],  # on the resumed connection
]


async def test_a_go_away_mid_interview_resumes_with_the_handle_and_loses_no_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeGeminiLive(SCRIPT)
    interview = await start_interview(
        fake, tmp_path, monkeypatch, interview_id="iv-resume", duration_minutes=20
    )
    store, runtime, session = interview.store, interview.runtime, interview.session
    try:
        await session.start(InterviewerAgent(runtime))
        await asyncio.wait_for(greet(session, runtime), STEP_TIMEOUT)
        await asyncio.wait_for(runtime.guard.wait_open(), STEP_TIMEOUT)
        await asyncio.wait_for(session.run(user_input=ANSWERS[0]), STEP_TIMEOUT)
        await asyncio.wait_for(fake.wait_connections(2), STEP_TIMEOUT)
        await asyncio.wait_for(session.run(user_input=ANSWERS[1]), STEP_TIMEOUT)
    finally:
        await session.aclose()
        await fake.stop()

    # Resumed, not restarted: the second setup presented the newest handle handed out before the goAway.
    assert len(fake.setups) == 2
    assert fake.resumed_with == [None, fake.handles[1]], (fake.resumed_with, fake.handles)

    # The answer given after the reconnect reached the model on the new connection, exactly once; the one
    # before it was not replayed (the handle holds it).
    resumed_texts = [text for connection, _role, text in fake.texts if connection == 1]
    assert resumed_texts.count(ANSWERS[1]) == 1, fake.texts
    assert ANSWERS[0] not in resumed_texts, fake.texts

    # No turn lost: the model recorded the answer and asked the next question; the store has every line.
    assert runtime.close(5), "the journal did not land"
    events = [(e.tool, e.outcome) for e in store.tool_events("iv-resume")]
    assert events == [("next_question", "ok"), ("record_answer", "ok"), ("next_question", "ok")]
    turns = [(t.speaker, t.text) for t in store.turns("iv-resume")]
    assert [text for speaker, text in turns if speaker == "candidate"] == ANSWERS
    asked = [
        json.loads(r["response"]["output"])["text"]
        for r in fake.tool_responses
        if r["name"] == "next_question"
    ]
    assert [text for speaker, text in turns if speaker == "agent"] == [GREETING, *asked]


LONG_ANSWERS = [
    "Hi, happy to be here.",
    "I work on the payments backend at a fintech, mostly Go and Postgres.",
    "I designed a sharded job queue with retries and idempotency keys; failures dropped by 40 percent.",
    "I led the migration off our monolith's database with dual writes and a backfill, no downtime.",
]
FOUR_RECONNECTS = [
    [Say(GREETING), GoAway()],
    [CallTool("next_question"), ASK, GoAway()],
    [RECORD, CallTool("next_question"), ASK, GoAway()],
    [RECORD, CallTool("next_question"), ASK, GoAway()],
    [
        RECORD,
        Say("Thank you, that is all the time we have. Goodbye."),
        CallTool("end_interview", {"reason": "done"}),
    ],
]


async def test_an_interview_survives_four_reconnects_with_every_answer_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeGeminiLive(FOUR_RECONNECTS)
    interview = await start_interview(
        fake, tmp_path, monkeypatch, interview_id="iv-resume4", duration_minutes=45
    )
    store, runtime, session = interview.store, interview.runtime, interview.session
    try:
        await session.start(InterviewerAgent(runtime))
        await asyncio.wait_for(greet(session, runtime), STEP_TIMEOUT)
        await asyncio.wait_for(runtime.guard.wait_open(), STEP_TIMEOUT)
        for connection, answer in enumerate(LONG_ANSWERS, start=2):
            await asyncio.wait_for(fake.wait_connections(connection), STEP_TIMEOUT)
            await asyncio.wait_for(session.run(user_input=answer), STEP_TIMEOUT)
        await asyncio.wait_for(runtime.ended.wait(), STEP_TIMEOUT)
    finally:
        await session.aclose()
        await fake.stop()

    # Every reconnect resumed with the newest handle it had been given.
    assert len(fake.setups) == 5
    assert fake.resumed_with[0] is None
    assert all(handle is not None for handle in fake.resumed_with[1:]), fake.resumed_with
    assert fake.resumed_with[1:] == [fake.handles[n] for n in range(4)], (fake.resumed_with, fake.handles)
    for connection, answer in enumerate(LONG_ANSWERS, start=1):
        received = [text for c, _role, text in fake.texts if c == connection]
        assert received.count(answer) == 1, (connection, fake.texts)

    assert runtime.close(5), "the journal did not land"
    events = [(e.tool, e.outcome) for e in store.tool_events("iv-resume4")]
    assert events.count(("record_answer", "ok")) == 3 and events[-1] == ("end_interview", "ok"), events
    turns = [(t.speaker, t.text) for t in store.turns("iv-resume4")]
    assert [text for speaker, text in turns if speaker == "candidate"] == LONG_ANSWERS
    assert store.get_report("iv-resume4") is not None
