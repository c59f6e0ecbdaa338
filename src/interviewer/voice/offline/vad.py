"""Silero VAD tuned for an interview, where people pause to think mid-answer."""

from __future__ import annotations

from livekit.agents import vad
from livekit.plugins import silero

# The VAD's end of speech is not the turn's end (that waits for engine.TURN_SILENCE_S of silence): it
# flushes the streaming STT, times the resume after a false interruption, and lets preemptive generation
# prepare the reply while the turn's silence runs out.
INTERVIEW_MIN_SILENCE_S = 0.4


def load_vad(
    *,
    min_silence_duration: float = INTERVIEW_MIN_SILENCE_S,
    min_speech_duration: float = 0.1,
    prefix_padding_duration: float = 0.5,
    activation_threshold: float = 0.5,
) -> vad.VAD:
    """Load the Silero model that ships inside `livekit-plugins-silero` (blocking; call it in prewarm).

    `min_speech_duration` 0.1 s ignores clicks and breaths; `prefix_padding_duration` keeps the soft onset of
    the first word so Whisper does not drop it.
    """
    return silero.VAD.load(
        min_silence_duration=min_silence_duration,
        min_speech_duration=min_speech_duration,
        prefix_padding_duration=prefix_padding_duration,
        activation_threshold=activation_threshold,
        force_cpu=True,
    )
