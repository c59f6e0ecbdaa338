"""Connects an `AgentSession` to an `InterviewRuntime`: transcript persistence and the guard's inputs.

Shared by the voice worker and the text-mode rehearsal, so both persist and guard in exactly the same way.
"""

from __future__ import annotations

import logging

from livekit.agents import AgentSession, AgentStateChangedEvent, ConversationItemAddedEvent
from livekit.agents.types import NOT_GIVEN
from livekit.agents.voice.speech_handle import SpeechHandle

from interviewer.agent.runtime import InterviewRuntime

log = logging.getLogger(__name__)


def wire_session(session: AgentSession[None], runtime: InterviewRuntime) -> None:
    def on_state(event: AgentStateChangedEvent) -> None:
        runtime.guard.agent_state_changed(event.new_state)

    def on_item(event: ConversationItemAddedEvent) -> None:
        item = event.item
        if item.type != "message" or not item.text_content:
            return
        # Where each turn's latency went (transcription, end of turn, llm, tts, end to end), for operators.
        timings = {k: round(v, 3) for k, v in item.metrics.items() if isinstance(v, float) and "_at" not in k}
        if timings:
            log.info("%s turn timings %s", item.role, timings)
        if item.role == "user":
            runtime.candidate_said(item.text_content)
        elif item.role == "assistant":
            runtime.agent_said(item.text_content)

    session.on("agent_state_changed", on_state)
    session.on("conversation_item_added", on_item)


async def greet(
    session: AgentSession[None], runtime: InterviewRuntime, *, instructions: str | None = None
) -> SpeechHandle:
    """Speak the greeting (uninterruptible) and tell the guard when it has finished playing."""
    handle = session.generate_reply(
        instructions=instructions if instructions is not None else NOT_GIVEN, allow_interruptions=False
    )
    await handle
    if handle.exception() is not None:
        log.error("greeting failed: %s", handle.exception())
    runtime.guard.greeting_finished()
    # The state may already be `listening`; feed it again so the guard can open now.
    runtime.guard.agent_state_changed(session.agent_state)
    return handle
