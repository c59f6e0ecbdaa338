"""Preemptive generation is safe: the reply is prepared before the candidate's turn is committed, but no tool
runs until it is. Real room, real offline session (its turn handling), the real interviewer agent, tools and
store; the candidate answers by voice, and while the session waits out the turn's silence the transcript is
already in, so the preemptive reply has time to run (and would run its tools, were livekit to allow it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from livekit import rtc
from livekit.agents import (
    ConversationItemAddedEvent,
    FunctionToolsExecutedEvent,
    MetricsCollectedEvent,
    llm,
)
from livekit.agents.metrics import LLMMetrics

from interviewer.agent.interviewer import InterviewerAgent
from interviewer.agent.runtime import InterviewRuntime
from interviewer.agent.wiring import wire_session
from interviewer.bench.speech_sim import espeak_pcm
from interviewer.config import load_settings
from interviewer.interview.plans import load_role
from interviewer.store import Store
from interviewer.voice.engine import SPEECH_KEY, build_session, offline_turn_handling
from interviewer.voice.offline.duplex import (
    AGENT,
    CANDIDATE,
    SAMPLE_RATE,
    ProbeCandidate,
    room_token,
    start_agent,
    trim,
)
from interviewer.voice.offline.engine import OfflineSpeech
from tests.fixtures.livekit import LiveKitServer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ANSWER = "I would start by reading the error logs of the payment service and"


@dataclass
class Seen:
    llm_done: list[float] = field(default_factory=list)  # wall clock, as livekit stamps its metrics
    committed: list[float] = field(default_factory=list)
    tools_started: list[tuple[str, float]] = field(default_factory=list)


@pytest.fixture
def runtime(tmp_path: Path) -> InterviewRuntime:
    store = Store(f"sqlite:///{tmp_path / 'interviews.db'}")
    plan = load_role("backend-engineer")
    store.open_interview(
        candidate_uid="candidate-uid",
        name=None,
        email=None,
        interview_id="preemptive-1",
        role=plan.id,
        plan=plan.model_dump(mode="json"),
        duration_minutes=10,
        room="preemptive",
    )
    runtime = InterviewRuntime.create(store, interview_id="preemptive-1", plan=plan, duration_minutes=10)
    runtime.guard.greeting_finished()
    runtime.guard.agent_state_changed("listening")
    return runtime


async def _asked_first_question(runtime: InterviewRuntime) -> InterviewerAgent:
    """The agent as it is after asking the first question: next_question's output is in its context."""
    step = runtime.next_question()
    context = llm.ChatContext()
    call = llm.FunctionCall(call_id="call-1", name="next_question", arguments="{}")
    output = llm.FunctionCallOutput(
        call_id="call-1", name="next_question", output=step.model_dump_json(), is_error=False
    )
    context.insert([call, output])
    context.add_message(role="assistant", content=step.say)
    agent = InterviewerAgent(runtime)
    await agent.update_chat_ctx(context)
    return agent


@pytest.fixture
async def room_session(
    livekit_server: LiveKitServer, offline_speech: OfflineSpeech, runtime: InterviewRuntime
) -> AsyncIterator[tuple[ProbeCandidate, Seen]]:
    server = livekit_server
    settings = load_settings(INTERVIEWER_MODE="test")
    session = build_session(settings, {SPEECH_KEY: offline_speech}, runtime.plan, 10)
    wire_session(session, runtime)
    seen = Seen()

    def on_metrics(event: MetricsCollectedEvent) -> None:
        if isinstance(event.metrics, LLMMetrics):
            seen.llm_done.append(event.metrics.timestamp)

    def on_item(event: ConversationItemAddedEvent) -> None:
        if event.item.type == "message" and event.item.role == "user":
            seen.committed.append(time.time())

    def on_tools(event: FunctionToolsExecutedEvent) -> None:
        seen.tools_started.extend((call.name, call.created_at) for call in event.function_calls)

    session.on("metrics_collected", on_metrics)
    session.on("conversation_item_added", on_item)
    session.on("function_tools_executed", on_tools)
    candidate = ProbeCandidate()
    agent_room: rtc.Room | None = None
    try:
        await candidate.join(
            server.url, room_token(server.api_key, server.api_secret, "preemptive", CANDIDATE)
        )
        token = room_token(server.api_key, server.api_secret, "preemptive", AGENT, agent=True)
        agent_room = await start_agent(session, await _asked_first_question(runtime), server.url, token)
        yield candidate, seen
    finally:
        await session.aclose()
        await candidate.leave()
        if agent_room is not None:
            await agent_room.disconnect()


async def test_the_offline_session_generates_preemptively() -> None:
    options = offline_turn_handling()["preemptive_generation"]
    assert options.get("enabled") is True and options.get("preemptive_tts") is True


async def test_no_tool_runs_before_the_turn_is_committed(
    room_session: tuple[ProbeCandidate, Seen], runtime: InterviewRuntime
) -> None:
    candidate, seen = room_session
    await candidate.say(trim(espeak_pcm(ANSWER, sample_rate=SAMPLE_RATE)))
    deadline = time.monotonic() + 30
    while not any(name == "record_answer" for name, _ in seen.tools_started) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # polling for the tool call, bounded by the deadline
    assert len(seen.committed) == 1, seen
    committed = seen.committed[0]
    # A reply was generated before the commit (so the preemptive path really ran) ...
    assert any(done < committed for done in seen.llm_done), seen
    # ... and every tool call of the turn started after it; the answer was recorded once.
    assert seen.tools_started and all(started >= committed for _, started in seen.tools_started), seen
    assert [name for name, _ in seen.tools_started].count("record_answer") == 1, seen
    assert runtime.journal.flush(5), "the journal did not land"
    recorded = [e for e in runtime.store.tool_events(runtime.interview_id) if e.tool == "record_answer"]
    assert len(recorded) == 1 and recorded[0].outcome == "ok", recorded
