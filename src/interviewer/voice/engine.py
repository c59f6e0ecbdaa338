"""Voice engine selection: one `AgentSession` factory for every engine, chosen by `VOICE_ENGINE`.

`offline` (default, CI): Silero VAD + faster-whisper + Piper + the deterministic interviewer, all loaded once
per process in prewarm. `gemini`: Gemini 2.5 Live through livekit-plugins-google, for production.
`pipeline`: the offline speech parts around any OpenAI-compatible chat model (voice/pipeline.py).
"""

from __future__ import annotations

from typing import Any

from livekit.agents import AgentSession

from interviewer.config import Settings, VoiceEngine
from interviewer.interview.plans import RolePlan
from interviewer.voice.offline.llm import InterviewerVoice, OfflineInterviewerLLM

SPEECH_KEY = "offline_speech"
FALLBACK_TTS_KEY = "fallback_tts"  # gemini: Piper speaks the interviewer's line when the model stays silent
MAX_TOOL_STEPS = 5  # record_answer → next_question → speak needs three; leave room for a retry


def prewarm_speech(settings: Settings, userdata: dict[str, Any]) -> None:
    """Load the engine's models into the job process once, before any interview is assigned to it."""
    if settings.voice_engine in (VoiceEngine.offline, VoiceEngine.pipeline):
        from interviewer.voice.offline.engine import OfflineSpeech

        userdata[SPEECH_KEY] = OfflineSpeech.load(settings)
    elif settings.voice_engine is VoiceEngine.gemini:
        from interviewer.voice.offline.tts import PiperTTS

        userdata[FALLBACK_TTS_KEY] = PiperTTS.from_settings(settings)


def build_session(
    settings: Settings, userdata: dict[str, Any], plan: RolePlan, duration_minutes: int
) -> AgentSession[None]:
    if settings.voice_engine is VoiceEngine.gemini:
        from interviewer.voice.gemini import build_gemini_session

        return build_gemini_session(
            settings, plan, duration_minutes, fallback_tts=userdata.get(FALLBACK_TTS_KEY)
        )
    speech = userdata.get(SPEECH_KEY)
    if speech is None:  # not prewarmed (e.g. a one-off job): load now rather than fail
        prewarm_speech(settings, userdata)
        speech = userdata[SPEECH_KEY]
    if settings.voice_engine is VoiceEngine.pipeline:
        from interviewer.voice.pipeline import build_pipeline_session

        return build_pipeline_session(settings, speech)
    voice = InterviewerVoice(role_title=plan.title, duration_minutes=duration_minutes)
    return AgentSession(
        vad=speech.vad,
        stt=speech.stt,
        tts=speech.tts,
        llm=OfflineInterviewerLLM(voice),
        max_tool_steps=MAX_TOOL_STEPS,
        turn_handling={
            # Offline: no cloud turn detector; the VAD decides when the candidate stopped.
            "interruption": {"mode": "vad"},
            # The VAD already waits for 0.7 s of silence before it ends a turn; the default 0.5 s of
            # endpointing on top of it only made every reply later.
            "endpointing": {"min_delay": 0.2},
            # Tools have side effects: never run a reply before the candidate's turn is final.
            "preemptive_generation": {"enabled": False},
        },
    )
