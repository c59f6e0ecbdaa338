"""The `pipeline` engine: the offline VAD/STT/TTS around any OpenAI-compatible chat model.

The model (OpenAI, or a local Ollama or vLLM server) reads the plan's instructions and calls the same three
tools as every engine, so the Greeting Guard and the Director decide what happens exactly as they do offline;
only the wording of each line is the model's. Speech never leaves the machine; the transcript goes to the
model's endpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livekit.agents import AgentSession

from interviewer.config import ConfigError, Settings

if TYPE_CHECKING:
    from livekit.agents.voice.turn import TurnHandlingOptions
    from livekit.plugins import openai

    from interviewer.voice.offline.engine import OfflineSpeech

# Local servers take no key, but the OpenAI client insists on one; this placeholder is what they ignore.
NO_KEY = "no-key"
MAX_TOOL_STEPS = 5  # record_answer → next_question → speak needs three; leave room for a retry


def pipeline_llm(settings: Settings) -> openai.LLM:
    """The chat model, from settings only (never from OPENAI_API_KEY or another ambient variable)."""
    from livekit.plugins import openai

    if not settings.pipeline_llm_base_url.startswith(("http://", "https://")):
        raise ConfigError("PIPELINE_LLM_BASE_URL: must start with http:// or https://")
    key = settings.pipeline_llm_api_key
    return openai.LLM(
        model=settings.pipeline_llm_model,
        base_url=settings.pipeline_llm_base_url,
        api_key=key.get_secret_value() if key is not None else NO_KEY,
        temperature=settings.pipeline_llm_temperature,
        # One tool call per reply: record_answer must land before next_question reads the plan's state,
        # and a reply is requested again after each tool anyway.
        parallel_tool_calls=False,
    )


def build_pipeline_session(
    settings: Settings, speech: OfflineSpeech | None, turn_handling: TurnHandlingOptions | None = None
) -> AgentSession[None]:
    """The session with the offline speech parts and their turn-taking (voice/engine.py hands it the
    offline session's), or text-only (rehearsal, tests) when `speech` is None."""
    model = pipeline_llm(settings)
    if speech is None:
        return AgentSession(llm=model, max_tool_steps=MAX_TOOL_STEPS)
    return AgentSession(
        vad=speech.vad,
        stt=speech.stt,
        tts=speech.tts,
        llm=model,
        max_tool_steps=MAX_TOOL_STEPS,
        turn_handling=turn_handling if turn_handling is not None else {"interruption": {"mode": "vad"}},
    )
