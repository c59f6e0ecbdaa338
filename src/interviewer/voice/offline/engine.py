"""The offline speech stack in one object, loaded once per process (the worker's prewarm)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from livekit.agents import stt, vad

from interviewer.config import Settings
from interviewer.voice.offline.stt import WhisperSTT
from interviewer.voice.offline.tts import PiperTTS
from interviewer.voice.offline.vad import load_vad

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfflineSpeech:
    """VAD, streaming STT and TTS ready for `AgentSession(vad=..., stt=..., tts=...)`.

    `stt` is Whisper behind `stt.StreamAdapter`: the session needs a streaming STT, and the adapter makes one
    by cutting utterances with the VAD and transcribing each. `whisper` is the same model, for batch use.
    """

    vad: vad.VAD
    stt: stt.StreamAdapter
    tts: PiperTTS
    whisper: WhisperSTT

    @classmethod
    def load(cls, settings: Settings | None = None) -> OfflineSpeech:
        """Verify and load every model (blocking, ~2 s): call once per process, in prewarm."""
        started = time.perf_counter()
        silero = load_vad()
        whisper = WhisperSTT.from_settings(settings)
        piper = PiperTTS.from_settings(settings)
        speech = cls(vad=silero, stt=stt.StreamAdapter(stt=whisper, vad=silero), tts=piper, whisper=whisper)
        log.info("offline speech loaded in %.2fs", time.perf_counter() - started)
        return speech
