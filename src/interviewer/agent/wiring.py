"""Connects an `AgentSession` to an `InterviewRuntime`: transcript persistence, the guard's inputs, each
reply's stage timings published to the room, and the recap a fresh voice-model session is primed with.

Shared by the voice worker and the text-mode rehearsal, so both persist and guard in exactly the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from livekit import rtc
from livekit.agents import (
    AgentSession,
    AgentStateChangedEvent,
    ConversationItemAddedEvent,
    MetricsCollectedEvent,
    SpeechCreatedEvent,
    UserInputTranscribedEvent,
    llm,
)
from livekit.agents.metrics import LLMMetrics, TTSMetrics
from livekit.agents.types import NOT_GIVEN
from livekit.agents.voice.speech_handle import SpeechHandle

from interviewer.agent.runtime import InterviewRuntime
from interviewer.agent.turn_timings import TURN_TIMINGS_TOPIC, TurnTimings
from interviewer.interview.recap import build_recap
from interviewer.interview.wording import recap_instructions

RECAP_FLUSH_SECONDS = 2.0  # a fresh model session is better told a recap a line short than kept waiting

log = logging.getLogger(__name__)


@runtime_checkable
class _Recappable(Protocol):
    """A voice model that may have to start a fresh session mid-interview (Gemini: resumption refused)."""

    recap: Callable[[], str] | None


def interview_recap(runtime: InterviewRuntime) -> str:
    """What a fresh voice-model session is told about the interview so far: the transcript from the store,
    the position from the Director."""
    runtime.journal.flush(RECAP_FLUSH_SECONDS)  # the recap is read back from the store
    lines = runtime.store.turns(runtime.interview_id)
    return recap_instructions(build_recap(runtime.plan, runtime.director, lines, runtime.elapsed()))


def wire_session(session: AgentSession[None], runtime: InterviewRuntime) -> None:
    if isinstance(session.llm, _Recappable):
        session.llm.recap = lambda: interview_recap(runtime)

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
    _TurnStages(session).attach()


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


@dataclass
class _UserTurn:
    committed: float  # when the user message was added: the turn was over for the agent
    speech_end: float | None
    transcript_final: float | None
    turn_end: float
    answered: bool = False


@dataclass
class _TurnStages:
    """Collects each reply's stage stamps from the session's public events and publishes them to the room.

    livekit-agents reports most stages as durations; they become wall-clock stamps here: the user turn's
    from its `stopped_speaking_at` plus the delays on the user message, the LLM's and the TTS's from each
    request's `timestamp` (taken when the request finished) minus its `duration`, plus its ttft / ttfb.
    A user message without those metrics (a turn whose final transcript came after the VAD's turn was
    committed) still has the times its events arrived: the message itself (the commit) and the last final
    transcript; only the end of speech is then unknown. Replies nobody asked for (the greeting, a prompt
    after a silence) have no user stages.
    """

    session: AgentSession[None]
    _user_turns: list[_UserTurn] = field(default_factory=list)
    _last_final: float | None = None  # arrival of the latest final transcript
    _tokens: dict[str, list[float]] = field(default_factory=dict)  # speech id -> first token per LLM step
    _tts_audio: dict[str, list[float]] = field(default_factory=dict)  # speech id -> first audio per chunk
    _sending: set[asyncio.Task[None]] = field(default_factory=set)

    def attach(self) -> None:
        self.session.on("user_input_transcribed", self._on_transcript)
        self.session.on("conversation_item_added", self._on_item)
        self.session.on("metrics_collected", self._on_metrics)
        self.session.on("speech_created", self._on_speech)

    def _on_transcript(self, event: UserInputTranscribedEvent) -> None:
        if event.is_final:
            self._last_final = event.created_at

    def _on_item(self, event: ConversationItemAddedEvent) -> None:
        item = event.item
        if not isinstance(item, llm.ChatMessage) or item.role != "user":
            return
        metrics = item.metrics
        end = metrics.get("stopped_speaking_at")
        transcript, turn = metrics.get("transcription_delay"), metrics.get("end_of_turn_delay")
        previous = self._user_turns[-1].committed if self._user_turns else 0.0
        final = self._last_final if self._last_final is not None and self._last_final > previous else None
        if end is not None and transcript is not None:
            final = end + transcript
        turn_end = end + turn if end is not None and turn is not None else event.created_at
        self._user_turns.append(_UserTurn(event.created_at, end, final, turn_end))
        del self._user_turns[:-8]  # a reply follows its turn closely; older turns are never looked up

    def _on_metrics(self, event: MetricsCollectedEvent) -> None:
        metrics = event.metrics
        if isinstance(metrics, LLMMetrics) and metrics.speech_id and metrics.ttft >= 0:
            started = metrics.timestamp - metrics.duration
            self._tokens.setdefault(metrics.speech_id, []).append(started + metrics.ttft)
        elif isinstance(metrics, TTSMetrics) and metrics.speech_id and metrics.ttfb >= 0:
            started = metrics.timestamp - metrics.duration
            self._tts_audio.setdefault(metrics.speech_id, []).append(started + metrics.ttfb)

    def _on_speech(self, event: SpeechCreatedEvent) -> None:
        event.speech_handle.add_done_callback(self._on_speech_done)

    def _on_speech_done(self, handle: SpeechHandle) -> None:
        tokens = sorted(self._tokens.pop(handle.id, []))
        audio = sorted(self._tts_audio.pop(handle.id, []))
        spoken = [
            item
            for item in handle.chat_items
            if isinstance(item, llm.ChatMessage) and item.metrics.get("started_speaking_at") is not None
        ]
        if not spoken:
            return  # nothing was played: no reply to time
        pushed = spoken[0].metrics["started_speaking_at"]
        user = self._answered_turn(pushed)
        first_audio = audio[0] if audio else None
        before_audio = [t for t in tokens if first_audio is None or t <= first_audio]
        timings = TurnTimings(
            speech_id=handle.id,
            user_speech_end=None if user is None else user.speech_end,
            transcript_final=None if user is None else user.transcript_final,
            turn_end=None if user is None else user.turn_end,
            first_token=tokens[0] if tokens else None,
            spoken_token=before_audio[-1] if before_audio else None,
            first_tts_audio=first_audio,
            first_frame_pushed=pushed,
            interrupted=handle.interrupted,
        )
        self._publish(timings)

    def _answered_turn(self, pushed: float) -> _UserTurn | None:
        """The latest user turn committed before this reply played, unless an earlier reply answered it.

        Playout waits for the commit even when generation started early (preemptive), so the first reply to
        play after a commit is that turn's; a later one (a prompt after a silence) answers nothing.
        """
        for turn in reversed(self._user_turns):
            if turn.committed <= pushed:
                if turn.answered:
                    return None
                turn.answered = True
                return turn
        return None

    def _publish(self, timings: TurnTimings) -> None:
        room = _room_of(self.session)
        if room is None or not room.isconnected():
            return
        task = asyncio.get_running_loop().create_task(self._send(room, timings))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, room: rtc.Room, timings: TurnTimings) -> None:
        try:
            await room.local_participant.publish_data(
                timings.to_payload(), reliable=True, topic=TURN_TIMINGS_TOPIC
            )
        except Exception as error:  # timings are for measurement: never let them disturb the interview
            log.debug("turn timings not published: %s", error)


def _room_of(session: AgentSession[None]) -> rtc.Room | None:
    try:
        return session.room_io.room
    except RuntimeError:  # started without a room: the text-mode rehearsal has nobody to tell
        return None
