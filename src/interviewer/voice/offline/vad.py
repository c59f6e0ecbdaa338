"""Silero VAD tuned for an interview, where people pause to think mid-answer."""

from __future__ import annotations

from livekit.agents import vad
from livekit.plugins import silero

# Silero's default 0.55 s ends a turn on an ordinary "we, um, ... migrated it" pause; 0.7 s does not, and
# still answers well under a second after the candidate really stops.
INTERVIEW_MIN_SILENCE_S = 0.7


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
