"""Silence and long answers: the Director decides, this module makes the session act on its decision.

Only public `AgentSession` calls: `say` for a prompt or an interruption, `generate_reply` when the plan has
moved on (the model then asks next_question, as after any turn). Text mode calls `on_silence` for a scripted
silence; the voice worker can run `watch`, which measures silence and speech from the session's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from livekit.agents import AgentSession, AgentStateChangedEvent, UserStateChangedEvent

from interviewer.agent.runtime import InterviewRuntime
from interviewer.interview.steps import StepKind
from interviewer.interview.voice_step import VoiceStep
from interviewer.interview.wording import STEP_INSTRUCTIONS

WATCH_INTERVAL = 1.0


async def act(session: AgentSession[None], step: VoiceStep | None) -> None:
    """Say a prompt or interruption, or let the model fetch the next step after a move-on."""
    if step is None:
        return
    if step.kind is StepKind.move_on:
        await session.generate_reply(instructions=STEP_INSTRUCTIONS[StepKind.move_on.value])
    elif step.say:
        await session.say(step.say, allow_interruptions=step.kind is not StepKind.interrupt)


async def on_silence(session: AgentSession[None], runtime: InterviewRuntime, silent_seconds: float) -> None:
    await act(session, runtime.silence(silent_seconds))


class Attend(enum.Enum):
    long_answer = "long_answer"
    silence = "silence"


@dataclass
class SilenceClock:
    """How long the candidate has been silent, as the agent can know it. Silence counts from the agent's
    last turn ending or the candidate's last change of speaking; it does not count while the agent's own
    room connection is down (the candidate cannot hear a prompt then, and moving the interview on behind
    their back loses their question)."""

    clock: Callable[[], float] = time.monotonic
    quiet_since: float = field(default=0.0)
    speaking: bool = False

    def __post_init__(self) -> None:
        self.quiet_since = self.clock()

    def agent_listening(self) -> None:
        self.quiet_since = self.clock()

    def candidate_speaking(self, speaking: bool) -> None:
        self.speaking = speaking
        self.quiet_since = self.clock()

    def check(self, *, listening: bool, connected: bool) -> Attend | None:
        """What to act on now: an answer running long, a silence of so many seconds, or nothing."""
        if not connected:
            self.quiet_since = self.clock()
            return None
        if self.speaking:
            return Attend.long_answer
        if listening:
            return Attend.silence
        return None

    def silent_for(self) -> float:
        return self.clock() - self.quiet_since


def watch(
    session: AgentSession[None],
    runtime: InterviewRuntime,
    connected: Callable[[], bool],
    clock: Callable[[], float] = time.monotonic,
) -> asyncio.Task[None]:
    """Check once a second, while the interview runs: a silent candidate, or an answer past its time.
    `connected` says whether the agent's room connection is up (it may be retrying a lost node)."""
    silence = SilenceClock(clock)

    def on_agent(event: AgentStateChangedEvent) -> None:
        if event.new_state == "listening":
            silence.agent_listening()

    def on_user(event: UserStateChangedEvent) -> None:
        silence.candidate_speaking(event.new_state == "speaking")

    session.on("agent_state_changed", on_agent)
    session.on("user_state_changed", on_user)

    async def loop() -> None:
        await runtime.guard.wait_open()
        while not runtime.ended.is_set():
            await asyncio.sleep(WATCH_INTERVAL)
            with contextlib.suppress(RuntimeError):  # the session closed between two checks
                attend = silence.check(listening=session.agent_state == "listening", connected=connected())
                if attend is Attend.long_answer:
                    await act(session, runtime.interrupt())
                elif attend is Attend.silence:
                    await act(session, runtime.silence(silence.silent_for()))

    return asyncio.get_running_loop().create_task(loop())
