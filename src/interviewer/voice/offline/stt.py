"""faster-whisper (tiny.en, CTranslate2 int8) as a livekit-agents STT, batch and streaming (early decoding).

Whisper has no streaming mode, and faster-whisper pads every call to a 30 s window, so a short clip costs
about as much as a long one: the only way to have the transcript sooner is to start decoding sooner.
`WhisperSTT` is the batch STT. `StreamingWhisperSTT` (in `stt_stream`) listens with its own Silero model,
starts decoding at the first short pause, keeps that result if the candidate says nothing more before the
session commits the turn (the session's flush), and drops it when speech resumes.
"""

from __future__ import annotations

import asyncio
import math
import os
from pathlib import Path
from typing import Any, Never

import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel
from livekit import rtc
from livekit.agents import stt, utils
from livekit.agents.language import LanguageCode
from livekit.agents.types import NOT_GIVEN, APIConnectOptions, NotGivenOr

from interviewer.config import Settings
from interviewer.voice.offline.models import locate_stt_model

WHISPER_SAMPLE_RATE = 16_000


def _default_threads() -> int:
    # CTranslate2 defaults to 4 threads; on a 2-core box that oversubscribes the CPU the event loop needs.
    return max(1, min(4, os.cpu_count() or 1))


def to_whisper_input(buffer: utils.AudioBuffer) -> npt.NDArray[np.float32]:
    """Mono float32 in [-1, 1] at 16 kHz, whatever rate and channel count the frames came in."""
    frame = rtc.combine_audio_frames(buffer) if isinstance(buffer, list) else buffer
    if frame.samples_per_channel == 0:
        return np.zeros(0, dtype=np.float32)
    if frame.sample_rate != WHISPER_SAMPLE_RATE:
        resampler = rtc.AudioResampler(
            frame.sample_rate,
            WHISPER_SAMPLE_RATE,
            num_channels=frame.num_channels,
            quality=rtc.AudioResamplerQuality.HIGH,
        )
        frames = resampler.push(frame) + resampler.flush()
        if not frames:
            return np.zeros(0, dtype=np.float32)
        frame = rtc.combine_audio_frames(frames)
    samples = np.frombuffer(frame.data, dtype=np.int16).astype(np.float32) / 32768.0
    if frame.num_channels > 1:
        samples = samples.reshape(-1, frame.num_channels).mean(axis=1)
    return samples


class WhisperSTT(stt.STT[Never]):  # Never: no events beyond the base class's
    """Batch speech-to-text with a faster-whisper model loaded once, at construction."""

    def __init__(
        self,
        model_dir: Path,
        *,
        language: str = "en",
        beam_size: int = 1,
        compute_type: str = "int8",
        cpu_threads: int | None = None,
        model: Any = None,
    ) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._model_dir = model_dir
        self._language = language
        self._beam_size = beam_size
        # `model`: anything with WhisperModel's `transcribe` (the worker's shared speech server, see
        # speech_server.py). Otherwise load one here: blocking and ~1 s, so in prewarm, never on a live loop.
        self._model = model or WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type=compute_type,
            cpu_threads=cpu_threads if cpu_threads is not None else _default_threads(),
            local_files_only=True,
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> WhisperSTT:
        """The bundled (hash-verified) tiny.en, or `STT_MODEL_DIR`."""
        return cls(locate_stt_model(settings))

    @property
    def model(self) -> str:
        return self._model_dir.name if self._model_dir.name != "model" else "whisper-tiny.en"

    @property
    def provider(self) -> str:
        return "faster-whisper"

    def transcribe_blocking(
        self, audio: npt.NDArray[np.float32], language: str | None = None
    ) -> tuple[str, float]:
        """Text and a confidence in [0, 1] for 16 kHz mono float audio. Blocks: call it from a thread."""
        if audio.size == 0:
            return "", 0.0
        segments, _info = self._model.transcribe(
            audio,
            # Whisper knows bare ISO 639-1 codes only ("en"), not BCP-47 tags ("en-US").
            language=(language or self._language).split("-")[0].lower(),
            beam_size=self._beam_size,
            # One utterance per call: earlier text would only invite repetition loops on short answers.
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,  # Silero already cut the utterance
        )
        texts: list[str] = []
        logprobs: list[float] = []
        for segment in segments:  # a lazy generator: decoding happens here, inside the thread
            if segment.text.strip():
                texts.append(segment.text.strip())
                logprobs.append(segment.avg_logprob)
        confidence = math.exp(sum(logprobs) / len(logprobs)) if logprobs else 0.0
        return " ".join(texts), confidence

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        lang = language if isinstance(language, str) else self._language
        audio = to_whisper_input(buffer)
        # Decoding takes ~0.1 s per second of speech: off the loop, so audio keeps flowing meanwhile.
        text, confidence = await asyncio.to_thread(self.transcribe_blocking, audio, lang)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=utils.shortuuid(),
            alternatives=[stt.SpeechData(language=LanguageCode(lang), text=text, confidence=confidence)],
        )
