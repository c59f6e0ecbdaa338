"""The `pipeline` engine's chat model (livekit-plugins-openai) against FakeOpenAIChat, a fake that speaks the
streaming Chat Completions wire protocol (tests/fakes/openai_chat.py): no OpenAI-compatible server can be
reached from here. The session is built by `voice.pipeline.build_pipeline_session` from settings, as the
worker builds it (text-only: the offline speech parts it adds are covered by the offline engine's tests), and
runs the real Agent, tools, Greeting Guard, Director and store.

The fake model calls a tool during its greeting, as real models do: the guard must refuse it and the refusal
must reach the model as the tool's error; then the model's next_question and record_answer calls must take
effect in the Director and the store, down to a stored report. The API key must travel only in the
Authorization header: never in a request body, never in a log line.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from interviewer.agent.interviewer import InterviewerAgent
from interviewer.agent.runtime import InterviewRuntime
from interviewer.agent.wiring import greet, wire_session
from interviewer.config import Settings, load_settings
from interviewer.interview.plans import load_role
from interviewer.logs import configure_logging
from interviewer.store import Store
from interviewer.voice.pipeline import build_pipeline_session
from tests.fakes.openai_chat import Call, FakeOpenAIChat, Messages, Reply

pytestmark = pytest.mark.integration

API_KEY = "sk-fake-pipeline-key-0123456789abcdef"
STEP_TIMEOUT = 20.0
GREETING = "Hello, I am Alex, I will be interviewing you today for about twenty minutes."
GOODBYE = "Thank you, that is all the time we have. Goodbye."


def _tool_outputs(messages: Messages) -> list[str]:
    return [str(m["content"]) for m in messages if m.get("role") == "tool"]


def _last_question(messages: Messages) -> dict[str, Any]:
    """The newest question next_question handed out, as the model read it in its context."""
    for output in reversed(_tool_outputs(messages)):
        try:
            payload = json.loads(output)
        except ValueError:
            continue
        if isinstance(payload, dict) and "question_id" in payload:
            return payload
    raise AssertionError(f"next_question never returned a question: {_tool_outputs(messages)}")


def _record(summary: str, score: int) -> Call:
    return Call(
        "record_answer",
        lambda m: {"question_id": _last_question(m)["question_id"], "summary": summary, "score": score},
    )


ASK = Reply(lambda m: str(_last_question(m)["text"]))
SCRIPT = [
    Reply(calls=[Call("next_question")]),  # during the greeting: must be refused
    Reply(GREETING),
    Reply(calls=[Call("next_question")]),
    ASK,
    Reply(calls=[_record("Backend engineer working on payments.", 3)]),
    Reply(calls=[Call("next_question")]),
    ASK,
    Reply(calls=[_record("Designed a sharded queue; cut failures by 40 percent.", 4)]),
    Reply(GOODBYE, calls=[Call("end_interview", {"reason": "the candidate had to leave"})]),
]
ANSWERS = [
    "Hi, happy to be here.",
    "I work on the payments backend at a fintech, mostly Go and Postgres.",
    "I designed a sharded job queue with retries and idempotency keys; failures dropped by 40 percent.",
]


async def test_pipeline_session_is_guarded_and_its_tool_calls_drive_the_interview(tmp_path: Path) -> None:
    fake = await FakeOpenAIChat(SCRIPT).start()
    settings = load_settings(
        INTERVIEWER_MODE="test",
        VOICE_ENGINE="pipeline",
        PIPELINE_LLM_BASE_URL=fake.base_url,
        PIPELINE_LLM_MODEL="fake-chat-model",
        PIPELINE_LLM_API_KEY=API_KEY,
        PIPELINE_LLM_TEMPERATURE=0.2,
        LOG_LEVEL="DEBUG",  # the level at which libraries print requests
    )
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    lines = io.StringIO()
    configure_logging(settings, stream=lines)
    try:
        await _interview(fake, settings, tmp_path)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        await fake.stop()

    # The key went only in the Authorization header: on every request, in no body, in no log line.
    assert fake.authorizations and set(fake.authorizations) == {f"Bearer {API_KEY}"}
    assert all(API_KEY not in json.dumps(body) for body in fake.requests)
    assert lines.getvalue(), "nothing was logged: the log check below would prove nothing"
    assert API_KEY not in lines.getvalue()


async def _interview(fake: FakeOpenAIChat, settings: Settings, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    plan = load_role("backend-engineer")
    store.open_interview(
        candidate_uid="uid-pipeline",
        name=None,
        email=None,
        interview_id="iv-pipeline",
        role=plan.id,
        plan=plan.model_dump(mode="json"),
        duration_minutes=20,
        room="room-pipeline",
    )
    assert store.claim_interview("iv-pipeline", "job-pipeline")
    runtime = InterviewRuntime.create(store, interview_id="iv-pipeline", plan=plan, duration_minutes=20)
    session = build_pipeline_session(settings, speech=None)
    wire_session(session, runtime)
    await session.start(InterviewerAgent(runtime))
    try:
        greeting = await asyncio.wait_for(greet(session, runtime), STEP_TIMEOUT)
        assert greeting.exception() is None
        await asyncio.wait_for(runtime.guard.wait_open(), STEP_TIMEOUT)
        for answer in ANSWERS:
            await asyncio.wait_for(session.run(user_input=answer), STEP_TIMEOUT)
        await asyncio.wait_for(runtime.ended.wait(), STEP_TIMEOUT)
    finally:
        await session.aclose()

    # Every request carried the settings' model, temperature, instructions and the three tools.
    first = fake.requests[0]
    assert first["model"] == "fake-chat-model" and first["temperature"] == 0.2
    assert first["messages"][0]["role"] in ("system", "developer")
    assert plan.title in first["messages"][0]["content"]
    declared = {tool["function"]["name"] for tool in first["tools"]}
    assert declared == {"next_question", "record_answer", "end_interview"}

    # The greeting-time call was refused, and the model was told why in the tool's result.
    refusal = _tool_outputs(fake.requests[1]["messages"])
    assert len(refusal) == 1 and "greeting" in refusal[0]
    assert runtime.close(5), "the journal did not land"
    events = [(e.tool, e.outcome) for e in store.tool_events("iv-pipeline")]
    assert events == [
        ("next_question", "refused"),
        ("next_question", "ok"),
        ("record_answer", "ok"),
        ("next_question", "ok"),
        ("record_answer", "ok"),
        ("end_interview", "ok"),
    ]

    # The Director's questions are what the model asked, and what it recorded is what the report scores.
    turns = [(t.speaker, t.text) for t in store.turns("iv-pipeline")]
    assert [text for speaker, text in turns if speaker == "candidate"] == ANSWERS
    agent_lines = [text for speaker, text in turns if speaker == "agent"]
    questions = [
        json.loads(output)["text"]
        for body in fake.requests
        for output in _tool_outputs(body["messages"])[-1:]
        if output.startswith("{") and "question_id" in json.loads(output)
    ]
    assert agent_lines[0] == GREETING
    assert agent_lines[1:3] == list(dict.fromkeys(questions))
    assert agent_lines[-1] == GOODBYE
    report = store.get_report("iv-pipeline")
    assert report is not None
    assert store.get_interview("iv-pipeline").status.value == "finished"  # type: ignore[union-attr]
