"""Gemini 2.5 Live (native audio) as the interviewer: production's voice engine.

Speech in and out is Gemini's own; the Director, tools and Greeting Guard are the same as offline. Sessions
longer than one connection use context-window compression and session resumption.
"""

from __future__ import annotations

from livekit.agents import AgentSession
from livekit.agents.types import NOT_GIVEN

from interviewer.agent.interviewer import instructions_for
from interviewer.config import ConfigError, Settings
from interviewer.interview.plans import RolePlan


def build_gemini_session(settings: Settings, plan: RolePlan, duration_minutes: int) -> AgentSession[None]:
    from google.genai import types
    from livekit.plugins import google

    if settings.google_api_key is None:
        raise ConfigError("GOOGLE_API_KEY: required when VOICE_ENGINE=gemini")
    model = google.realtime.RealtimeModel(
        model=settings.gemini_model,
        voice="Puck",
        api_key=settings.google_api_key.get_secret_value(),
        instructions=instructions_for(plan, duration_minutes),
        session_resumption=types.SessionResumptionConfig(),
        context_window_compression=types.ContextWindowCompressionConfig(sliding_window=types.SlidingWindow()),
        http_options=types.HttpOptions(base_url=settings.gemini_base_url)
        if settings.gemini_base_url
        else NOT_GIVEN,
    )
    return AgentSession(llm=model, max_tool_steps=5)
