"""Never silent: the Gemini engine against FakeGeminiLive taught to stay silent (a named fake of the Live API
wire protocol over TLS; Gemini cannot be reached from here), in a real text-mode AgentSession with the real
Agent, tools, guard and store.

The model accepts the candidate's turn and never starts its reply, twice. livekit-agents gives up on each
after its own bound ("generate_reply timed out waiting for generation_created"); the engine must ask the
model once more, then speak the interviewer's own line in its place, count both, log both, and carry on: the
candidate's next answer reaches the model and the interview proceeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from livekit.agents.llm import RealtimeError

from interviewer.agent.interviewer import InterviewerAgent
from interviewer.agent.runtime import InterviewRuntime
from interviewer.agent.wiring import greet, wire_session
from interviewer.config import load_settings
from interviewer.interview import wording
from interviewer.interview.plans import load_role
from interviewer.logs import configure_logging
from interviewer.store import Store
from interviewer.voice.gemini import SilenceCounts, build_gemini_session, watchdog_of
from tests.fakes.gemini_live import CallTool, FakeGeminiLive, Responses, Say, StaySilent

pytestmark = pytest.mark.integration

STEP_TIMEOUT = 30.0  # two of livekit-agents' own 5 s bounds fit in one step
GREETING = "Hello, I am Alex, I will be interviewing you today for about twenty minutes."


def _last_question(responses: Responses) -> dict[str, Any]:
    for response in reversed(responses):
        output = response.get("response", {}).get("output")
        if output and "question_id" in (payload := json.loads(output)):
            return dict(payload)
    raise AssertionError(f"next_question never returned a question: {responses}")


SCRIPT = [
    [Say(GREETING)],
    [StaySilent()],  # the candidate's first answer
    [StaySilent()],  # the one retry
    [CallTool("next_question"), Say(lambda r: str(_last_question(r)["text"]))],
]


async def test_a_silent_model_is_asked_again_then_the_interviewer_speaks_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "fake-gemini.crt"))
    fake = await FakeGeminiLive(SCRIPT).start(tmp_path)
    settings = load_settings(
        INTERVIEWER_MODE="test",
        VOICE_ENGINE="gemini",
        GOOGLE_API_KEY="fake-google-api-key-0123456789abcdef",
        GEMINI_BASE_URL=fake.base_url,
        GEMINI_VOICE="Kore",
        GEMINI_LANGUAGE="en-GB",
        GEMINI_TEMPERATURE=0.3,
    )
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    lines = io.StringIO()
    configure_logging(settings, stream=lines)
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    plan = load_role("backend-engineer")
    store.open_interview(
        candidate_uid="uid-silent",
        name=None,
        email=None,
        interview_id="iv-silent",
        role=plan.id,
        plan=plan.model_dump(mode="json"),
        duration_minutes=20,
        room="room-silent",
    )
    runtime = InterviewRuntime.create(store, interview_id="iv-silent", plan=plan, duration_minutes=20)
    session = build_gemini_session(settings, plan, 20)
    watchdog = watchdog_of(session)
    assert watchdog is not None
    wire_session(session, runtime)
    fallback_said = asyncio.Event()
    session.on(
        "conversation_item_added",
        lambda e: fallback_said.set() if e.item.text_content == wording.lost_reply_line() else None,
    )
    try:
        await session.start(InterviewerAgent(runtime))
        await asyncio.wait_for(greet(session, runtime), STEP_TIMEOUT)
        await asyncio.wait_for(runtime.guard.wait_open(), STEP_TIMEOUT)
        first = session.run(user_input="Hi, happy to be here.")
        # The run reports the model's failed reply, or not when the retry joined the run: either way the
        # counts below say what happened.
        with contextlib.suppress(RealtimeError):
            await asyncio.wait_for(first, STEP_TIMEOUT)
        await asyncio.wait_for(fallback_said.wait(), STEP_TIMEOUT)
        await asyncio.wait_for(session.run(user_input="Sorry: hi, happy to be here."), STEP_TIMEOUT)
    finally:
        await session.aclose()
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        await fake.stop()

    # The voice, language and temperature came from the settings, not from code.
    # (google-genai sends the nested fields in snake_case, which the API also takes.)
    generation = fake.setups[0]["generationConfig"]
    speech = generation["speechConfig"]
    voice = speech["voice_config"]["prebuilt_voice_config"]["voice_name"]
    assert (voice, speech["language_code"]) == ("Kore", "en-GB")
    assert generation["temperature"] == pytest.approx(0.3)

    assert fake.silent_turns == 2
    assert watchdog.counts == SilenceCounts(stalls=2, retries=1, fallbacks=1)
    log = lines.getvalue()
    assert "did not start its reply" in log and "stayed silent after a retry" in log
    assert "2 stalled, 1 retried, 1 spoken in its place, 0 could not be spoken" in log

    assert runtime.close(5), "the journal did not land"
    agent_lines = [t.text for t in store.turns("iv-silent") if t.speaker == "agent"]
    question = _last_question(fake.tool_responses)["text"]
    assert agent_lines == [GREETING, wording.lost_reply_line(), question]
    candidate_lines = [t.text for t in store.turns("iv-silent") if t.speaker == "candidate"]
    assert candidate_lines[-1] == "Sorry: hi, happy to be here."
