"""Production's voice engine (Gemini 2.5 Live via livekit-plugins-google) against FakeGeminiLive, a fake that
speaks the Live API's real wire protocol over TLS (tests/fakes/gemini_live.py): Gemini itself cannot be
reached from here. The session is built by `voice.gemini.build_gemini_session` from settings, exactly as the
worker builds it, and runs the real Agent, tools, Greeting Guard and store; only the transport to the
candidate is text instead of a room (the voice path through LiveKit is covered with the offline engine).

The fake model misbehaves the way real ones do: it calls a tool during its greeting. The guard must refuse it
(with a message the model can act on), the refusal must be stored, and the interview must then proceed
through the Director's questions to a stored report.
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
from interviewer.logs import REDACTED, configure_logging
from interviewer.store import Store
from interviewer.voice.gemini import build_gemini_session
from tests.fakes.gemini_live import CallTool, FakeGeminiLive, Responses, Say

pytestmark = pytest.mark.integration

API_KEY = "fake-google-api-key-0123456789abcdef"
STEP_TIMEOUT = 20.0


def _last_question(responses: Responses) -> dict[str, Any]:
    """The newest question next_question handed out (what a model would ask, and answer about)."""
    for response in reversed(responses):
        output = response.get("response", {}).get("output")
        if output and "question_id" in (payload := json.loads(output)):
            return dict(payload)
    raise AssertionError(f"next_question never returned a question: {responses}")


def _record(summary: str, score: int) -> CallTool:
    return CallTool(
        "record_answer",
        lambda r: {"question_id": _last_question(r)["question_id"], "summary": summary, "score": score},
    )


ASK = Say(lambda r: str(_last_question(r)["text"]))
SCRIPT = [
    # The greeting, with a tool call it was told not to make.
    [
        CallTool("next_question"),
        Say("Hello, I am Alex, I will be interviewing you today for about twenty minutes."),
    ],
    [CallTool("next_question"), ASK],
    [_record("Backend engineer working on payments.", 3), CallTool("next_question"), ASK],
    [
        _record("Designed a sharded queue; cut failures by 40 percent.", 4),
        Say("Thank you, that is all the time we have. Goodbye."),
        CallTool("end_interview", {"reason": "the candidate had to leave"}),
    ],
]
ANSWERS = [
    "Hi, happy to be here.",
    "I work on the payments backend at a fintech, mostly Go and Postgres.",
    "I designed a sharded job queue with retries and idempotency keys; failures dropped by 40 percent.",
]


@pytest.fixture
def fake_gemini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeGeminiLive:
    """Not started: it must serve on the test's own event loop (async fixtures here run on the session's)."""
    fake = FakeGeminiLive(SCRIPT)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "fake-gemini.crt"))  # google-genai dials wss://
    return fake


async def test_gemini_session_is_guarded_and_runs_the_interview_to_a_report(
    fake_gemini: FakeGeminiLive, tmp_path: Path
) -> None:
    await fake_gemini.start(tmp_path)
    settings = load_settings(
        INTERVIEWER_MODE="test",
        VOICE_ENGINE="gemini",
        GOOGLE_API_KEY=API_KEY,
        GEMINI_BASE_URL=fake_gemini.base_url,
        LOG_LEVEL="DEBUG",  # the level at which libraries print request headers
    )
    # The worker's own logging setup, writing to a buffer instead of stderr.
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    lines = io.StringIO()
    configure_logging(settings, stream=lines)
    try:
        await _interview(fake_gemini, settings, tmp_path)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        await fake_gemini.stop()
    # The key went to the model endpoint, and libraries did log the header carrying it, but no log line
    # holds it.
    assert fake_gemini.api_keys == [API_KEY]
    assert f"x-goog-api-key: {REDACTED}" in lines.getvalue()
    assert API_KEY not in lines.getvalue()


async def _interview(fake_gemini: FakeGeminiLive, settings: Settings, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    plan = load_role("backend-engineer")
    store.open_interview(
        candidate_uid="uid-gemini",
        name=None,
        email=None,
        interview_id="iv-gemini",
        role=plan.id,
        plan=plan.model_dump(mode="json"),
        duration_minutes=20,
        room="room-gemini",
    )
    assert store.claim_interview("iv-gemini", "job-gemini")
    runtime = InterviewRuntime.create(store, interview_id="iv-gemini", plan=plan, duration_minutes=20)
    session = build_gemini_session(settings, plan, 20)
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

    # The session was set up the way production needs it.
    (setup,) = fake_gemini.setups
    assert setup["model"] == f"models/{settings.gemini_model}"
    declared = {f["name"] for tool in setup["tools"] for f in tool.get("functionDeclarations", [])}
    assert declared == {"next_question", "record_answer", "end_interview"}
    assert plan.title in setup["systemInstruction"]["parts"][0]["text"]
    for needed in ("sessionResumption", "contextWindowCompression", "inputAudioTranscription"):
        assert needed in setup, f"setup lacks {needed}"

    # The greeting-time call was refused with an instruction, and the refusal is on record.
    refused = fake_gemini.tool_responses[0]
    assert refused["name"] == "next_question" and "error" in refused["response"]
    assert "greeting" in refused["response"]["error"]
    assert runtime.close(5), "the journal did not land"
    events = [(e.tool, e.outcome) for e in store.tool_events("iv-gemini")]
    assert events == [
        ("next_question", "refused"),
        ("next_question", "ok"),
        ("record_answer", "ok"),
        ("next_question", "ok"),
        ("record_answer", "ok"),
        ("end_interview", "ok"),
    ]

    # Everything said on both sides is stored, in order; the model asked the Director's questions.
    turns = [(t.speaker, t.text) for t in store.turns("iv-gemini")]
    assert [text for speaker, text in turns if speaker == "candidate"] == ANSWERS
    agent_lines = [text for speaker, text in turns if speaker == "agent"]
    handed_out = [r["response"] for r in fake_gemini.tool_responses if r["name"] == "next_question"]
    questions = [json.loads(r["output"])["text"] for r in handed_out if "output" in r]
    assert len(questions) == 2 and agent_lines[1:3] == questions

    report = store.get_report("iv-gemini")
    assert report is not None
    assert store.get_interview("iv-gemini").status.value == "finished"  # type: ignore[union-attr]
