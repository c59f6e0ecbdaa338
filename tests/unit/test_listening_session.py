"""Each intent through a real livekit `AgentSession` with the offline interviewer, in process, no room.

The same Agent, tools, Greeting Guard, runtime and SQLite store as a live interview; only the transport is
text. Assertions use livekit's `RunResult.expect`, so they read as the conversation: the acknowledgement,
the record_answer call, the plan's next step, the line spoken.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from livekit.agents import AgentSession, llm
from livekit.agents.voice.run_result import RunResult

from interviewer.agent.attention import on_silence
from interviewer.agent.interviewer import InterviewerAgent
from interviewer.agent.runtime import InterviewRuntime
from interviewer.agent.wiring import greet, wire_session
from interviewer.interview.director import SILENCE_PROMPT_SECONDS
from interviewer.interview.plans import load_role
from interviewer.interview.voice_step import VoiceStep
from interviewer.rehearse import SimulatedClock
from interviewer.store import Store
from interviewer.voice.offline.llm import InterviewerVoice, OfflineInterviewerLLM
from tests.fixtures.interviews import open_interview

COMPLETE = (
    "At my last company I designed the event ingestion service. I built a partitioned Kafka pipeline and "
    "as a result p99 latency dropped from 900 ms to 120 ms for 2 million events a day."
)


@dataclass
class Live:
    session: AgentSession[None]
    runtime: InterviewRuntime
    clock: SimulatedClock
    store: Store

    async def say(self, text: str) -> RunResult[None]:
        self.clock.speak(text)
        return await self.session.run(user_input=text)

    def spoken(self) -> list[str]:
        return [
            i.text_content or ""
            for i in self.session.history.items
            if i.type == "message" and i.role == "assistant"
        ]

    async def to_first_core_question(self) -> str:
        await self.say("Yes, I'm ready.")
        await self.say("I build payment services in Go at a fintech company.")
        current = self.runtime.director.current
        assert current is not None and current.competency_id is not None
        return current.text or ""


@asynccontextmanager
async def interview(tmp_path: Path, minutes: int = 20) -> AsyncIterator[Live]:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    plan = load_role("backend-engineer")
    open_interview(store, plan=plan.model_dump(mode="json"), duration_minutes=minutes, room="iv-1")
    store.claim_interview("iv-1", "test")
    clock = SimulatedClock()
    runtime = InterviewRuntime.create(
        store, interview_id="iv-1", plan=plan, duration_minutes=minutes, clock=clock
    )
    session: AgentSession[None] = AgentSession(
        llm=OfflineInterviewerLLM(InterviewerVoice(plan.title, minutes)), max_tool_steps=5
    )
    wire_session(session, runtime)
    await session.start(InterviewerAgent(runtime))
    try:
        await greet(session, runtime)
        await asyncio.wait_for(runtime.guard.wait_open(), 10)
        yield Live(session, runtime, clock, store)
    finally:
        await session.aclose()


def _turn(result: RunResult[None], intent: str) -> VoiceStep:
    """The shape of every candidate turn: acknowledgement and record_answer first, then the next step."""
    expect = result.expect
    expect.next_event().is_message(role="assistant")
    expect.next_event().is_function_call(name="record_answer")
    recorded = expect.next_event().is_function_call_output(is_error=False)
    assert json.loads(recorded.event().item.output)["intent"] == intent
    expect.next_event().is_function_call(name="next_question")
    output = expect.next_event().is_function_call_output(is_error=False)
    return VoiceStep.model_validate_json(output.event().item.output)


async def test_greeting_tool_call_is_refused_and_the_greeting_is_said_once(tmp_path: Path) -> None:
    async with interview(tmp_path) as live:
        assert live.runtime.journal.flush(5)
        events = live.store.tool_events("iv-1")
        assert [(e.tool, e.outcome) for e in events] == [("next_question", "refused")]
        assert len(live.spoken()) == 1 and live.spoken()[0].startswith("Hello")


async def test_speak_first_acknowledgement_comes_with_the_tool_call_and_nothing_twice(tmp_path: Path) -> None:
    async with interview(tmp_path) as live:
        await live.to_first_core_question()
        before = len(live.spoken())
        result = await live.say(COMPLETE)
        step = _turn(result, "answer")
        result.expect.next_event().is_message(role="assistant")
        result.expect.no_more_events()
        ack, line = live.spoken()[before:]
        assert line == step.say and ack not in line
    # The first chunk of the reply carries both the words and the call.
    voice = InterviewerVoice("Backend Engineer", 20)
    ctx = llm.ChatContext()
    ctx.add_message(role="user", content="Hello")
    ctx.items.append(
        llm.FunctionCall(name="next_question", arguments="{}", call_id="c1"),
    )
    ctx.items.append(
        llm.FunctionCallOutput(
            name="next_question",
            call_id="c1",
            output=VoiceStep(
                kind="ask", phase="core", seconds_left=600, say="Q?", instructions="ask", question_id="q1"
            ).model_dump_json(),
            is_error=False,
        )
    )
    ctx.add_message(role="user", content=COMPLETE)
    stream = OfflineInterviewerLLM(voice).chat(chat_ctx=ctx)
    chunks = [chunk async for chunk in stream]
    await stream.aclose()
    assert len(chunks) == 1
    delta = chunks[0].delta
    assert delta is not None and delta.content and [c.name for c in delta.tool_calls] == ["record_answer"]


async def test_repeat_says_the_question_again(tmp_path: Path) -> None:
    async with interview(tmp_path) as live:
        question = await live.to_first_core_question()
        step = _turn(await live.say("Sorry, could you repeat the question?"), "repeat")
        assert step.kind == "repeat" and step.text == question and question in step.say


async def test_clarify_explains_the_question(tmp_path: Path) -> None:
    async with interview(tmp_path) as live:
        await live.to_first_core_question()
        step = _turn(await live.say("What do you mean by that?"), "clarify")
        assert step.kind == "clarify" and "one real situation" in step.say


async def test_dont_know_gets_an_easier_variant_once_then_moves_on(tmp_path: Path) -> None:
    async with interview(tmp_path) as live:
        await live.to_first_core_question()
        easier = _turn(await live.say("I don't know."), "dont_know")
        assert easier.kind == "easier" and "easier" in easier.say
        moved = _turn(await live.say("Sorry, I really can't think of an example."), "dont_know")
        assert moved.kind == "ask" and moved.new_competency and moved.competency != easier.competency
        asked = live.runtime.director.asked_question_ids
        assert not any("follow-up" in q for q in asked)


async def test_a_question_the_plan_knows_is_answered_on_the_spot(tmp_path: Path) -> None:
    async with interview(tmp_path) as live:
        await live.to_first_core_question()
        step = _turn(await live.say("How much time do we have left?"), "question")
        assert step.kind == "answer_question" and "minutes left" in step.say


async def test_a_question_the_plan_cannot_answer_is_kept_for_the_end_and_taken_up(tmp_path: Path) -> None:
    async with interview(tmp_path, minutes=10) as live:
        await live.to_first_core_question()
        step = _turn(await live.say("Can I ask what the team size is?"), "question")
        assert "for the end" in step.say
        for _ in range(20):
            await live.say(COMPLETE)
            if live.runtime.director.phase.value == "candidate_questions":
                break
        assert any("Earlier you asked: 'Can I ask what the team size is?'" in s for s in live.spoken())


@pytest.mark.parametrize(
    "goodbye",
    ["I'm sorry, something came up and I have to leave now. Goodbye.", "Thanks again, goodbye!"],
)
async def test_goodbye_in_any_phrasing_closes_with_a_report(tmp_path: Path, goodbye: str) -> None:
    async with interview(tmp_path) as live:
        await live.to_first_core_question()
        result = await live.say(goodbye)
        step = _turn(result, "stop")
        assert step.kind == "close"
        result.expect.next_event().is_message(role="assistant")
        result.expect.next_event().is_function_call(name="end_interview")
        assert live.runtime.report is not None and live.store.get_report("iv-1") is not None


async def test_silence_prompts_gently_then_moves_on(tmp_path: Path) -> None:
    async with interview(tmp_path) as live:
        question = await live.to_first_core_question()
        live.clock.now += SILENCE_PROMPT_SECONDS
        await on_silence(live.session, live.runtime, SILENCE_PROMPT_SECONDS)
        assert "Take your time" in live.spoken()[-1]
        live.clock.now += SILENCE_PROMPT_SECONDS
        await on_silence(live.session, live.runtime, SILENCE_PROMPT_SECONDS)
        # The move-on reply (next_question, then the next line) has played when on_silence returns.
        assert live.spoken()[-1].startswith("Let's move on to something else.")
        current = live.runtime.director.current
        assert current is not None and current.text != question


async def test_an_answer_past_its_time_is_cut_short_politely(tmp_path: Path) -> None:
    async with interview(tmp_path, minutes=10) as live:
        await live.to_first_core_question()
        rambling = " ".join(["We had a lot of meetings about the design and talked it through."] * 20)
        step = _turn(await live.say(rambling), "answer")
        assert step.kind == "ask" and step.say.startswith("In the interest of time")


async def test_off_topic_is_steered_back(tmp_path: Path) -> None:
    async with interview(tmp_path) as live:
        await live.to_first_core_question()
        step = _turn(await live.say("Did you watch the football last night?"), "off_topic")
        assert step.kind == "steer_back" and "come back" in step.say
