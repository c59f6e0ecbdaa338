"""The offline speech stack in one object, loaded once per process (the worker's prewarm)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from livekit.agents import vad

from interviewer.config import Settings
from interviewer.voice.offline.speech_server import RemotePiperVoice, RemoteWhisperModel, SpeechClient
from interviewer.voice.offline.stt import WhisperSTT
from interviewer.voice.offline.stt_stream import StreamingWhisperSTT
from interviewer.voice.offline.tts import PiperTTS
from interviewer.voice.offline.vad import load_vad

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfflineSpeech:
    """VAD, streaming STT and TTS ready for `AgentSession(vad=..., stt=..., tts=...)`.

    `stt` is Whisper behind a streaming interface that starts decoding at the candidate's first short pause
    (stt_stream.py). `whisper` is the same model, for batch use.
    """

    vad: vad.VAD
    stt: StreamingWhisperSTT
    tts: PiperTTS
    whisper: WhisperSTT

    @classmethod
    def load(cls, settings: Settings | None = None) -> OfflineSpeech:
        """Verify and load every model (blocking, ~2 s): call once per process, in prewarm."""
        started = time.perf_counter()
        silero = load_vad()
        whisper, piper = _served_by_worker() or (
            WhisperSTT.from_settings(settings),
            PiperTTS.from_settings(settings),
        )
        speech = cls(vad=silero, stt=StreamingWhisperSTT(whisper), tts=piper, whisper=whisper)
        log.info("offline speech loaded in %.2fs", time.perf_counter() - started)
        return speech


def _served_by_worker() -> tuple[WhisperSTT, PiperTTS] | None:
    """Under an agent worker: Whisper and Piper backed by its one speech server (speech_server.py), so this
    process loads no model of its own. None elsewhere (text mode, tests, benchmarks load their own)."""
    client = SpeechClient.from_env()
    if client is None:
        return None
    info = client.wait_ready()
    whisper = WhisperSTT(Path("model"), model=RemoteWhisperModel(client))
    piper = PiperTTS(Path("en_US-joe-medium"), voice=RemotePiperVoice(client, int(info["sample_rate"])))
    return whisper, piper
