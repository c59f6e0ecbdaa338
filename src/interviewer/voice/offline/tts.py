"""Piper (the "joe" voice) as a livekit-agents TTS that speaks sentence by sentence.

`PiperVoice.synthesize` is a generator yielding one audio chunk per sentence. Each `next()` runs in a worker
thread and its PCM is pushed (and flushed) at once, so the first sentence plays while the rest are still being
synthesised: time to first audio is one sentence's synthesis (~70 ms), not the whole reply's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Never

from livekit.agents import tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from piper import AudioChunk, PiperVoice, SynthesisConfig

from interviewer.config import Settings
from interviewer.voice.offline.models import locate_tts_voice


class PiperTTS(tts.TTS[Never]):  # Never: no events beyond the base class's
    """Non-streaming TTS whose `synthesize()` streams audio out per sentence."""

    def __init__(
        self,
        model_path: Path,
        config_path: Path | None = None,
        *,
        length_scale: float | None = None,
        volume: float = 1.0,
        voice: Any = None,
    ) -> None:
        # `voice`: anything with PiperVoice's `synthesize` and `config.sample_rate` (the worker's shared
        # speech server). Otherwise load one: blocking and ~0.5 s (onnxruntime session), so in prewarm.
        voice = voice or PiperVoice.load(model_path, config_path=config_path)
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=voice.config.sample_rate,
            num_channels=1,
        )
        self._voice = voice
        self._voice_name = model_path.stem
        self._syn_config = SynthesisConfig(length_scale=length_scale, volume=volume)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> PiperTTS:
        """The bundled (hash-verified) joe voice, or `TTS_VOICE_PATH`."""
        files = locate_tts_voice(settings)
        return cls(files.model, files.config)

    @property
    def model(self) -> str:
        return self._voice_name

    @property
    def provider(self) -> str:
        return "piper"

    def sentence_chunks(self, text: str) -> Iterator[AudioChunk]:
        """The blocking generator, one chunk per sentence (used directly by benchmarks)."""
        return iter(self._voice.synthesize(text, syn_config=self._syn_config))

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> PiperChunkedStream:
        return PiperChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class PiperChunkedStream(tts.ChunkedStream):
    def __init__(self, *, tts: PiperTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._piper = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=self._piper.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
        )
        chunks = self._piper.sentence_chunks(self.input_text)
        while True:
            # One sentence per thread hop: if the agent is interrupted, this task is cancelled and at most the
            # sentence already in flight finishes in the background.
            chunk = await asyncio.to_thread(next, chunks, None)
            if chunk is None:
                break
            output_emitter.push(chunk.audio_int16_bytes)
            # Release the sentence's tail now instead of holding it until the next sentence is ready.
            output_emitter.flush()
