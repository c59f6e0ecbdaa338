"""Silence and long answers: the Director decides, this module makes the session act on its decision.

Only public `AgentSession` calls: `say` for a prompt or an interruption, `generate_reply` when the plan has
moved on (the model then asks next_question, as after any turn). Text mode calls `on_silence` for a scripted
silence; the voice worker can run `watch`, which measures silence and speech from the session's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

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


def watch(
    session: AgentSession[None], runtime: InterviewRuntime, clock: Callable[[], float] = time.monotonic
) -> asyncio.Task[None]:
    """Check once a second, while the interview runs: a silent candidate, or an answer past its time."""
    quiet_since: list[float] = [clock()]
    speaking: list[bool] = [False]

    def on_agent(event: AgentStateChangedEvent) -> None:
        if event.new_state == "listening":
            quiet_since[0] = clock()

    def on_user(event: UserStateChangedEvent) -> None:
        speaking[0] = event.new_state == "speaking"
        quiet_since[0] = clock()

    session.on("agent_state_changed", on_agent)
    session.on("user_state_changed", on_user)

    async def loop() -> None:
        await runtime.guard.wait_open()
        while not runtime.ended.is_set():
            await asyncio.sleep(WATCH_INTERVAL)
            with contextlib.suppress(RuntimeError):  # the session closed between two checks
                if speaking[0]:
                    await act(session, runtime.interrupt())
                elif session.agent_state == "listening":
                    await act(session, runtime.silence(clock() - quiet_since[0]))

    return asyncio.get_running_loop().create_task(loop())
