"""Voice engine selection: one `AgentSession` factory for every engine, chosen by `VOICE_ENGINE`.

`offline` (default, CI): Silero VAD + faster-whisper + Piper + the deterministic interviewer, all loaded once
per process in prewarm. `gemini`: Gemini 2.5 Live through livekit-plugins-google, for production.
`pipeline`: the offline speech parts around any OpenAI-compatible chat model (voice/pipeline.py).
"""

from __future__ import annotations

from typing import Any

from livekit.agents import AgentSession
from livekit.agents.voice.turn import TurnHandlingOptions

from interviewer.config import Settings, VoiceEngine
from interviewer.interview.plans import RolePlan
from interviewer.voice.offline.llm import InterviewerVoice, OfflineInterviewerLLM

SPEECH_KEY = "offline_speech"
FALLBACK_TTS_KEY = "fallback_tts"  # gemini: Piper speaks the interviewer's line when the model stays silent
MAX_TOOL_STEPS = 5  # record_answer → next_question → speak needs three; leave room for a retry

# The turn ends after this much silence: the policy bench/turn_taking.py chose (README, "Turn-taking").
TURN_SILENCE_S = 1.6

# Barge-in. Speech over the interviewer pauses it as soon as the VAD has heard this much of it (its own
# onset already takes 0.1 s, vad.py). A short "mm-hm" pauses it too, but yields no words, so the
# interviewer resumes once this much silence has followed the VAD's end of speech and the turn decision
# that owns the pause has dropped it.
BARGE_IN_MIN_SPEECH_S = 0.1
FALSE_INTERRUPTION_RESUME_S = 0.5


def offline_turn_handling() -> TurnHandlingOptions:
    """How the offline session takes turns, every part named (see the README's "Turn-taking").

    Nothing is left to livekit-agents' defaults: without `turn_detection` 1.8.9 adds its own audio turn
    detector with a 2.5 s `max_delay`, which waited the whole 2.5 s on most finished answers.
    """
    return {
        # bench/turn_taking.py: no offline end-of-turn model told a finished answer from a pause for thought
        # well enough to beat plain silence, so the turn ends after TURN_SILENCE_S of it. The VAD's own end
        # of speech comes sooner (vad.py) and only flushes the streaming STT, whose transcript is then ready
        # long before the turn ends.
        "turn_detection": "vad",
        "endpointing": {"mode": "fixed", "min_delay": TURN_SILENCE_S, "max_delay": TURN_SILENCE_S},
        "interruption": {
            "enabled": True,
            "mode": "vad",  # the adaptive barge-in model is cloud-only
            "min_duration": BARGE_IN_MIN_SPEECH_S,
            "min_words": 0,  # words come only after a pause: waiting for them could not stop within 0.3 s
            "resume_false_interruption": True,
            "false_interruption_timeout": FALSE_INTERRUPTION_RESUME_S,
            "discard_audio_if_uninterruptible": True,  # the greeting is not interrupted, nor queued behind
        },
        # The reply (and the speech of its first sentence) is prepared from the transcript while the session
        # waits out the turn's silence; livekit-agents runs its tools only once the turn is committed, which
        # tests/integration/test_preemptive.py checks, so the side effects stay in order. A new transcript
        # (the candidate went on) replaces it: answers are long and have many pauses, so no cap on either.
        "preemptive_generation": {
            "enabled": True,
            "preemptive_tts": True,
            "max_speech_duration": 3600.0,
            "max_retries": 1000,
        },
    }


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

        return build_pipeline_session(settings, speech, offline_turn_handling())
    voice = InterviewerVoice(role_title=plan.title, duration_minutes=duration_minutes)
    return AgentSession(
        vad=speech.vad,
        stt=speech.stt,
        tts=speech.tts,
        llm=OfflineInterviewerLLM(voice),
        max_tool_steps=MAX_TOOL_STEPS,
        turn_handling=offline_turn_handling(),
    )
