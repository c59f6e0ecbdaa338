"""Text mode: a whole interview through a real `AgentSession`, with typed (or scripted) answers, no audio.

The same Agent, tools, Greeting Guard, offline interviewer and store as the voice interview; only the
transport differs. Useful to rehearse, to demo without a microphone, and to test the orchestration fast.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from livekit.agents import AgentSession, ConversationItemAddedEvent

from interviewer.agent.attention import on_silence
from interviewer.agent.interviewer import InterviewerAgent
from interviewer.agent.journal import CLOSE_SECONDS as JOURNAL_CLOSE_SECONDS
from interviewer.agent.runtime import InterviewRuntime
from interviewer.agent.wiring import greet, wire_session
from interviewer.interview.director import SILENCE_PROMPT_SECONDS
from interviewer.interview.plans import RolePlan
from interviewer.interview.report import Report
from interviewer.store import InterviewStatus, Store
from interviewer.voice.offline.llm import InterviewerVoice, OfflineInterviewerLLM

REHEARSAL_UID = "local-rehearsal"
WORDS_PER_SECOND = 2.5  # conversational speech, used by the simulated clock
GREETING_GUARD_TIMEOUT = 10.0
SILENCE = "(silence)"  # a line of an answers file where the candidate says nothing


@dataclass
class SimulatedClock:
    """Time that advances with what is said, so a scripted rehearsal spends its budget like a real one."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now

    def speak(self, text: str) -> None:
        self.now += 2.0 + len(text.split()) / WORDS_PER_SECOND


async def rehearse(
    store: Store,
    plan: RolePlan,
    answers: AsyncIterator[str],
    *,
    duration_minutes: int = 20,
    print_line: Callable[[str, str], None] | None = None,
    clock: Callable[[], float] | None = None,
    interview_id: str | None = None,
) -> Report:
    """Run one interview to its end and return the stored report."""
    interview_id = interview_id or f"rehearsal-{uuid.uuid4().hex[:12]}"
    previous = store.active_interview(REHEARSAL_UID)
    if previous is not None:
        store.end_interview(previous.id, InterviewStatus.abandoned, "superseded by a new rehearsal")
    store.open_interview(
        candidate_uid=REHEARSAL_UID,
        name="Rehearsal",
        email=None,
        interview_id=interview_id,
        role=plan.id,
        plan=plan.model_dump(mode="json"),
        duration_minutes=duration_minutes,
        room=interview_id,
    )
    store.claim_interview(interview_id, "text-mode")

    simulated = clock if clock is not None else SimulatedClock()
    runtime = InterviewRuntime.create(
        store, interview_id=interview_id, plan=plan, duration_minutes=duration_minutes, clock=simulated
    )
    voice = InterviewerVoice(role_title=plan.title, duration_minutes=duration_minutes)
    session: AgentSession[None] = AgentSession(llm=OfflineInterviewerLLM(voice), max_tool_steps=5)
    wire_session(session, runtime)

    def on_item(event: ConversationItemAddedEvent) -> None:
        item = event.item
        if item.type == "message" and item.text_content and item.role in ("user", "assistant"):
            if isinstance(simulated, SimulatedClock):
                simulated.speak(item.text_content)
            if print_line is not None:
                print_line("candidate" if item.role == "user" else "interviewer", item.text_content)

    session.on("conversation_item_added", on_item)
    await session.start(InterviewerAgent(runtime))
    try:
        await greet(session, runtime)
        await asyncio.wait_for(runtime.guard.wait_open(), GREETING_GUARD_TIMEOUT)
        async for answer in answers:
            if runtime.ended.is_set():
                break
            if answer.strip() == SILENCE:
                # A scripted silence: the candidate says nothing for as long as the Director waits.
                if isinstance(simulated, SimulatedClock):
                    simulated.now += SILENCE_PROMPT_SECONDS
                await on_silence(session, runtime, SILENCE_PROMPT_SECONDS)
            elif answer.strip():
                await session.run(user_input=answer)
        if not runtime.ended.is_set():
            runtime.finish("the candidate left")
    finally:
        await session.aclose()
        await asyncio.to_thread(runtime.close, JOURNAL_CLOSE_SECONDS)
    assert runtime.report is not None
    return runtime.report


async def lines_from_file(path: Path) -> AsyncIterator[str]:
    """One candidate turn a line; `(silence)` for a turn where they say nothing; `#` starts a comment."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield line.strip()


async def lines_from_terminal(prompt: str = "you> ") -> AsyncIterator[str]:
    while True:
        try:
            line = await asyncio.to_thread(input, prompt)
        except EOFError:
            return
        yield line


def write_report(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
