"""One interview on the Gemini engine against FakeGeminiLive, as the Gemini integration tests set it up: the
real settings, store, runtime, Agent, tools, guard and wiring; only Gemini is the fake."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import AgentSession

from interviewer.agent.runtime import InterviewRuntime
from interviewer.agent.wiring import wire_session
from interviewer.config import load_settings
from interviewer.interview.plans import load_role
from interviewer.store import Store
from interviewer.voice.gemini import build_gemini_session
from interviewer.voice.gemini_fresh import FreshStartRealtimeModel
from tests.fakes.gemini_live import CallTool, FakeGeminiLive, Responses, Say

GREETING = "Hello, I am Alex, I will be interviewing you today."


def last_question(responses: Responses) -> dict[str, Any]:
    for response in reversed(responses):
        output = response.get("response", {}).get("output")
        if output and "question_id" in (payload := json.loads(output)):
            return dict(payload)
    raise AssertionError(f"next_question never returned a question: {responses}")


def last_step(responses: Responses) -> dict[str, Any]:
    for response in reversed(responses):
        if response.get("name") == "next_question":
            return dict(json.loads(response["response"]["output"]))
    raise AssertionError(f"next_question was never called: {responses}")


ASK = Say(lambda r: str(last_question(r)["say"]))
NEXT = CallTool("next_question")
RECORD = CallTool(
    "record_answer",
    lambda r: {"question_id": last_question(r)["question_id"], "summary": "Answered.", "score": 3},
)


def instructions_of(setup: dict[str, Any]) -> str:
    content = setup.get("systemInstruction") or setup.get("system_instruction") or {}
    return "".join(part.get("text", "") for part in content.get("parts", []))


@dataclass
class GeminiInterview:
    fake: FakeGeminiLive
    store: Store
    runtime: InterviewRuntime
    session: AgentSession[None]
    interview_id: str

    @property
    def model(self) -> FreshStartRealtimeModel:
        assert isinstance(self.session.llm, FreshStartRealtimeModel)
        return self.session.llm

    def candidate_lines(self) -> list[str]:
        assert self.runtime.journal.flush(5), "the journal did not land"
        return [t.text for t in self.store.turns(self.interview_id) if t.speaker == "candidate"]

    def texts_on(self, connection: int) -> list[str]:
        return [text for c, _role, text in self.fake.texts if c == connection]


async def start_interview(
    fake: FakeGeminiLive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    interview_id: str,
    duration_minutes: int,
    clock: Callable[[], float] | None = None,
) -> GeminiInterview:
    """Serve the fake, open the interview row and build the wired session (not started yet)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "fake-gemini.crt"))
    await fake.start(tmp_path)
    settings = load_settings(
        INTERVIEWER_MODE="test",
        VOICE_ENGINE="gemini",
        GOOGLE_API_KEY="fake-google-api-key-0123456789abcdef",
        GEMINI_BASE_URL=fake.base_url,
    )
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    plan = load_role("backend-engineer")
    store.open_interview(
        candidate_uid=f"uid-{interview_id}",
        name=None,
        email=None,
        interview_id=interview_id,
        role=plan.id,
        plan=plan.model_dump(mode="json"),
        duration_minutes=duration_minutes,
        room=f"room-{interview_id}",
    )
    extra = {} if clock is None else {"clock": clock}
    runtime = InterviewRuntime.create(
        store, interview_id=interview_id, plan=plan, duration_minutes=duration_minutes, **extra
    )
    session = build_gemini_session(settings, plan, duration_minutes)
    wire_session(session, runtime)
    return GeminiInterview(fake, store, runtime, session, interview_id)
