"""Gemini 2.5 Live (native audio) as the interviewer: production's voice engine.

Speech in and out is Gemini's own; the Director, tools and Greeting Guard are the same as offline. Sessions
longer than one connection use context-window compression and session resumption; when the server refuses
to resume, a fresh session primed with a recap of the interview takes over (`gemini_fresh`).

Never silent: a Live session sometimes accepts a turn and never starts its reply (livekit-agents reports it as
"generate_reply timed out waiting for generation_created"; for a turn the server detected itself nothing is
reported at all). `ReplyWatchdog` notices both, asks the model once more, and if it stays silent speaks a
line of the interviewer's own in its place, so a candidate is never left waiting in silence.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livekit.agents import (
    AgentSession,
    AgentStateChangedEvent,
    SpeechCreatedEvent,
    UserStateChangedEvent,
    llm,
)
from livekit.agents.types import NOT_GIVEN
from livekit.agents.voice import SpeechHandle

from interviewer.agent.interviewer import instructions_for
from interviewer.config import ConfigError, Settings
from interviewer.interview import wording
from interviewer.interview.plans import RolePlan

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from livekit.agents import tts

log = logging.getLogger(__name__)

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def gemini_credentials(settings: Settings) -> Credentials | None:
    """Vertex AI's service account key, when one is configured (else the platform's own identity)."""
    if settings.google_application_credentials is None:
        return None
    from google.oauth2 import service_account

    path = settings.google_application_credentials
    if not path.is_file():
        raise ConfigError(f"GOOGLE_APPLICATION_CREDENTIALS: no file at {path}")
    try:
        return service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call,no-any-return]
            str(path), scopes=[CLOUD_PLATFORM_SCOPE]
        )
    except (ValueError, KeyError) as error:
        raise ConfigError(
            f"GOOGLE_APPLICATION_CREDENTIALS: {path} is not a service account key ({error})"
        ) from None


def build_gemini_session(
    settings: Settings,
    plan: RolePlan,
    duration_minutes: int,
    *,
    fallback_tts: tts.TTS[Any] | None = None,
) -> AgentSession[None]:
    """The Gemini session, watched by a `ReplyWatchdog`; `fallback_tts` speaks its lines in a room (the
    Live API cannot be told to say a fixed line, and a silent model would not say it anyway)."""
    from google.genai import types

    from interviewer.voice.gemini_fresh import FreshStartRealtimeModel

    if settings.gemini_vertexai:
        if settings.google_cloud_project is None:
            raise ConfigError("GOOGLE_CLOUD_PROJECT: required when GEMINI_VERTEXAI=true")
        auth: dict[str, object] = {
            "vertexai": True,
            "project": settings.google_cloud_project,
            "location": settings.google_cloud_location,
            "credentials": gemini_credentials(settings),
        }
    elif settings.google_api_key is not None:
        auth = {"api_key": settings.google_api_key.get_secret_value()}
    else:
        raise ConfigError("GOOGLE_API_KEY: required when VOICE_ENGINE=gemini (or set GEMINI_VERTEXAI=true)")
    model = FreshStartRealtimeModel(
        model=settings.gemini_model,
        voice=settings.gemini_voice,
        language=settings.gemini_language,
        temperature=settings.gemini_temperature if settings.gemini_temperature is not None else NOT_GIVEN,
        instructions=instructions_for(plan, duration_minutes),
        session_resumption=types.SessionResumptionConfig(),
        context_window_compression=types.ContextWindowCompressionConfig(sliding_window=types.SlidingWindow()),
        http_options=types.HttpOptions(base_url=settings.gemini_base_url)
        if settings.gemini_base_url
        else NOT_GIVEN,
        **auth,  # type: ignore[arg-type]
    )
    session: AgentSession[None] = AgentSession(
        llm=model, tts=fallback_tts if fallback_tts is not None else NOT_GIVEN, max_tool_steps=5
    )
    ReplyWatchdog(
        session,
        greeting=wording.greeting(plan.title, duration_minutes),
        timeout=settings.gemini_reply_timeout_seconds,
    ).attach()
    return session


@dataclass
class SilenceCounts:
    """How often the model stayed silent, and what was done about it (also in the worker's log)."""

    stalls: int = 0  # replies the model never started
    retries: int = 0  # the model asked again
    fallbacks: int = 0  # lines spoken in the model's place
    fallback_failures: int = 0  # a fallback line that could not be spoken (no TTS for the room)


_WATCHDOGS: weakref.WeakKeyDictionary[AgentSession[None], ReplyWatchdog] = weakref.WeakKeyDictionary()


def watchdog_of(session: AgentSession[None]) -> ReplyWatchdog | None:
    return _WATCHDOGS.get(session)


@dataclass
class ReplyWatchdog:
    """Retry once, then speak: for replies that failed to start (generate_reply's RealtimeError) and for
    candidate turns the server detected but never answered (no reply within `timeout`)."""

    session: AgentSession[None]
    greeting: str
    timeout: float
    counts: SilenceCounts = field(default_factory=SilenceCounts)
    _retry_ids: set[str] = field(default_factory=set)
    _spoke: bool = False
    _waiting: asyncio.TimerHandle | None = None

    def attach(self) -> None:
        _WATCHDOGS[self.session] = self
        self.session.on("speech_created", self._on_speech_created)
        self.session.on("user_state_changed", self._on_user_state)
        self.session.on("agent_state_changed", self._on_agent_state)
        self.session.on("close", self._on_close)

    def _on_close(self, _event: object) -> None:
        self._disarm()
        if self.counts.stalls:  # one line per interview that had any, for the operator's dashboards
            log.warning(
                "voice model silences in this interview: %d stalled, %d retried, %d spoken in its place, "
                "%d could not be spoken",
                self.counts.stalls,
                self.counts.retries,
                self.counts.fallbacks,
                self.counts.fallback_failures,
            )

    def _on_speech_created(self, event: SpeechCreatedEvent) -> None:
        self._disarm()
        event.speech_handle.add_done_callback(self._on_speech_done)

    def _on_speech_done(self, handle: SpeechHandle) -> None:
        error = handle.exception()
        if error is None:
            if not handle.interrupted:
                self._spoke = True
            return
        if not isinstance(error, llm.RealtimeError):
            return
        self._stalled(retry_failed=handle.id in self._retry_ids, why=str(error))

    def _on_user_state(self, event: UserStateChangedEvent) -> None:
        # A turn ended by the server's own voice activity detection: the reply should start by itself.
        if event.old_state == "speaking" and event.new_state == "listening":
            self._disarm()
            loop = asyncio.get_running_loop()
            self._waiting = loop.call_later(self.timeout, self._unanswered_turn)

    def _on_agent_state(self, event: AgentStateChangedEvent) -> None:
        if event.new_state in ("thinking", "speaking"):
            self._disarm()

    def _disarm(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()
            self._waiting = None

    def _unanswered_turn(self) -> None:
        self._waiting = None
        if self.session.user_state == "listening" and self.session.agent_state == "listening":
            self._stalled(retry_failed=False, why=f"no reply {self.timeout:.1f}s after the candidate's turn")

    def _stalled(self, *, retry_failed: bool, why: str) -> None:
        self.counts.stalls += 1
        if not retry_failed:
            self.counts.retries += 1
            log.warning("the voice model did not start its reply (%s): asking it again", why)
            handle = self.session.generate_reply()
            self._retry_ids.add(handle.id)
            return
        line = self.greeting if not self._spoke else wording.lost_reply_line()
        log.error("the voice model stayed silent after a retry (%s): speaking %r in its place", why, line)
        try:
            self.session.say(line)
        except RuntimeError:
            self.counts.fallback_failures += 1
            log.exception("the fallback line could not be spoken")
            return
        self.counts.fallbacks += 1
