"""Streaming Whisper that transcribes while the candidate speaks.

The session's VAD ends a turn only after some silence, and Whisper then needs its fixed ~0.5 s. This stream
listens with its own Silero model (inline, so its view of the audio is exactly what has been pushed) and
starts decoding the utterance at the first short pause. When the session commits the turn it flushes the
stream (`manual_flush`): if no speech followed the pause, the early result is already there (or nearly) and
becomes the final transcript; if speech resumed, that result was dropped and the whole utterance is decoded
at the flush. A very long utterance keeps a checked prefix, so no decode grows past Whisper's window.

Interjections that carry no words ("mm-hm", a cough Whisper writes as "(coughing)") are not transcripts: the
session would otherwise treat a listener's "mm-hm" over the interviewer's question as the candidate's turn.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Never

import numpy as np
import numpy.typing as npt
from livekit import rtc
from livekit.agents import stt, utils
from livekit.agents.language import LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.plugins.silero import onnx_model

from interviewer.voice.offline.stt import WHISPER_SAMPLE_RATE, WhisperSTT, to_whisper_input

# Silence that starts an early decode. Shorter than any turn-end silence, long enough that most gaps between
# words do not start one (each costs a Whisper call).
EARLY_DECODE_SILENCE_S = 0.2
ACTIVATION, DEACTIVATION = 0.5, 0.35  # Silero's speech thresholds, as livekit's plugin uses them
MIN_SPEECH_S = 0.1
PREFIX_PADDING_S = 0.3  # keeps the soft onset of the first word
FREEZE_AFTER_S = 20.0  # an early result covering this much audio is kept even if speech resumes

# Interjections, as Whisper spells them ("Mm-hmm.", "Mm-mm.", "Uh-huh.", "Uh-uh.", "Hmm", "Um", "Erm"),
# with the hyphens gone: runs of m/h, u(h)/u(m) repeated, a(h), e(r)(m).
_NON_LEXICAL = re.compile(r"(?:[mh]+|(?:uh?)+(?:h?u+h*)*|u+m+|a+h*|e+r+m*)")
_TAG = re.compile(r"[\[(*][^\])*]*[\])*]")  # "[coughs]", "(coughing)", "*cough*", "[BLANK_AUDIO]"


def is_non_lexical(text: str) -> bool:
    """True when a transcript holds no words: only interjections like "mm-hm" or bracketed noise tags."""
    words = _TAG.sub(" ", text.lower())
    tokens = [re.sub(r"[^a-z]", "", token) for token in words.split()]
    return all(_NON_LEXICAL.fullmatch(token) for token in tokens if token)


@dataclass
class DecodeCounts:
    """How the stream's Whisper calls were spent (all streams of one STT), for tests and the benchmark."""

    early_started: int = 0  # decodes started at a short pause
    early_used: int = 0  # ... whose result became the final transcript (or a kept prefix)
    early_dropped: int = 0  # ... thrown away because speech resumed
    at_flush: int = 0  # decodes that only started when the turn was committed
    finals: int = 0
    non_lexical: int = 0  # transcripts dropped as interjections or noise


class StreamingWhisperSTT(stt.STT[Never]):
    """Whisper behind a streaming interface that decodes during pauses; needs the session's flush."""

    def __init__(self, whisper: WhisperSTT, *, early_silence: float = EARLY_DECODE_SILENCE_S) -> None:
        super().__init__(
            capabilities=stt.STTCapabilities(streaming=True, interim_results=False, manual_flush=True)
        )
        self.whisper = whisper
        self.early_silence = early_silence
        self.counts = DecodeCounts()
        self._vad_session = onnx_model.new_inference_session(force_cpu=True)

    @property
    def model(self) -> str:
        return self.whisper.model

    @property
    def provider(self) -> str:
        return self.whisper.provider

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        return await self.whisper.recognize(buffer, language=language, conn_options=conn_options)

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> EarlyDecodeStream:
        model = onnx_model.OnnxModel(onnx_session=self._vad_session, sample_rate=WHISPER_SAMPLE_RATE)
        lang = language if isinstance(language, str) else "en"
        return EarlyDecodeStream(self, model, language=lang, conn_options=conn_options)


@dataclass
class _Decode:
    start: int  # absolute sample indexes (16 kHz) of the audio it covers
    end: int
    task: asyncio.Task[tuple[str, float]]


class EarlyDecodeStream(stt.RecognizeStream):
    def __init__(
        self,
        owner: StreamingWhisperSTT,
        vad: onnx_model.OnnxModel,
        *,
        language: str,
        conn_options: APIConnectOptions,
    ) -> None:
        # sample_rate: the base class resamples whatever the room sends to Whisper's 16 kHz.
        super().__init__(stt=owner, conn_options=conn_options, sample_rate=WHISPER_SAMPLE_RATE)
        self._owner = owner
        self._vad = vad
        self._smooth = utils.ExpFilter(alpha=0.35)  # as livekit's Silero plugin smooths it
        self._language = language
        self._window = vad.window_size_samples
        self._chunks: list[npt.NDArray[np.int16]] = []
        self._base = 0  # absolute index of the first kept sample
        self._total = 0  # samples received
        self._unscored = np.zeros(0, dtype=np.int16)
        self._speaking = False
        self._speech_run = 0
        self._silence_run = 0
        self._segment_start: int | None = None  # where the current utterance began, None between turns
        self._heard = False  # speech in the current utterance (one that started at a flush may have none yet)
        self._early: _Decode | None = None
        self._kept: list[_Decode] = []  # prefixes of a long utterance
        self._early_lock = asyncio.Lock()  # one speculative decode at a time per stream

    async def _run(self) -> None:
        try:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    await self._finish()
                else:
                    self._push(item)
            await self._finish()
        finally:
            for decode in (self._early, *self._kept):
                if decode is not None and not decode.task.done():
                    decode.task.cancel()

    # -- audio and pauses ----------------------------------------------------------------------------

    def _push(self, frame: rtc.AudioFrame) -> None:
        samples = np.frombuffer(frame.data, dtype=np.int16)
        if frame.num_channels > 1:
            samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
        self._chunks.append(samples)
        self._total += samples.size
        self._unscored = np.concatenate([self._unscored, samples])
        while self._unscored.size >= self._window:
            window, self._unscored = self._unscored[: self._window], self._unscored[self._window :]
            scored_to = self._total - self._unscored.size
            probability = self._smooth.apply(exp=1.0, sample=self._vad(window.astype(np.float32) / 32768.0))
            self._on_window(probability, scored_to)
        if self._segment_start is None:
            self._trim(self._total - int(PREFIX_PADDING_S * WHISPER_SAMPLE_RATE) - self._window)

    def _on_window(self, probability: float, at: int) -> None:
        speech = probability >= ACTIVATION or (self._speaking and probability > DEACTIVATION)
        if speech:
            self._speech_run += self._window
            self._silence_run = 0
            if self._early is not None:
                self._resumed(self._early)
            if self._segment_start is not None:
                self._heard = True
            if not self._speaking and self._speech_run >= MIN_SPEECH_S * WHISPER_SAMPLE_RATE:
                self._speaking = True
                if self._segment_start is None:
                    padding = int(PREFIX_PADDING_S * WHISPER_SAMPLE_RATE)
                    self._segment_start = max(self._base, at - self._speech_run - padding)
                    self._heard = True
                    self._event_ch.send_nowait(stt.SpeechEvent(stt.SpeechEventType.START_OF_SPEECH))
            return
        self._silence_run += self._window
        self._speech_run = 0
        if self._speaking and self._silence_run >= self._owner.early_silence * WHISPER_SAMPLE_RATE:
            self._speaking = False
            start = self._segment_start if self._segment_start is not None else self._base
            self._early = _Decode(start, at, asyncio.create_task(self._decode_early(start, at)))
            self._owner.counts.early_started += 1

    def _resumed(self, early: _Decode) -> None:
        self._early = None
        if (early.end - early.start) >= FREEZE_AFTER_S * WHISPER_SAMPLE_RATE:
            self._kept.append(early)  # long enough: keep it as a prefix, go on from its end
            self._segment_start = early.end
            self._owner.counts.early_used += 1
        else:
            self._owner.counts.early_dropped += 1

    # -- decoding -------------------------------------------------------------------------------------

    def _audio(self, start: int, end: int) -> npt.NDArray[np.float32]:
        pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        self._chunks = [pcm]
        piece = pcm[max(0, start - self._base) : max(0, end - self._base)]
        frame = rtc.AudioFrame(piece.tobytes(), WHISPER_SAMPLE_RATE, 1, piece.size)
        return to_whisper_input(frame)

    async def _transcribe(self, audio: npt.NDArray[np.float32]) -> tuple[str, float]:
        return await asyncio.to_thread(self._owner.whisper.transcribe_blocking, audio, self._language)

    async def _decode_early(self, start: int, end: int) -> tuple[str, float]:
        audio = self._audio(start, end)  # taken now: the buffer may be trimmed before the lock is free
        async with self._early_lock:
            current = self._early is not None and self._early.end == end
            if not current and not any(kept.end == end for kept in self._kept):
                return "", 0.0  # superseded while waiting for the lock: never decoded
            return await self._transcribe(audio)

    async def _finish(self) -> None:
        """The session committed the turn (or the input ended): emit the utterance's final transcript."""
        if self._segment_start is None or not self._heard:
            return
        texts: list[str] = []
        confidences: list[float] = []
        for kept in self._kept:
            text, confidence = await kept.task
            texts.append(text)
            confidences.append(confidence)
        if self._early is not None:
            text, confidence = await self._early.task
            self._owner.counts.early_used += 1
        else:
            self._owner.counts.at_flush += 1
            text, confidence = await self._transcribe(self._audio(self._segment_start, self._total))
        texts.append(text)
        confidences.append(confidence)
        self._reset_segment()
        transcript = " ".join(t for t in texts if t).strip()
        self._event_ch.send_nowait(stt.SpeechEvent(stt.SpeechEventType.END_OF_SPEECH))
        if not transcript or is_non_lexical(transcript):
            self._owner.counts.non_lexical += bool(transcript)
            return
        self._owner.counts.finals += 1
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=stt.SpeechEventType.FINAL_TRANSCRIPT,
                request_id=utils.shortuuid(),
                alternatives=[
                    stt.SpeechData(
                        language=LanguageCode(self._language),
                        text=transcript,
                        confidence=min(confidences) if confidences else 0.0,
                    )
                ],
            )
        )

    def _reset_segment(self) -> None:
        self._early = None
        self._kept = []
        # Speech still going on at a flush (a manual commit) starts the next utterance at once.
        self._segment_start = self._total if self._speaking else None
        self._heard = False
        if self._segment_start is None:
            self._trim(self._total - int(PREFIX_PADDING_S * WHISPER_SAMPLE_RATE))

    def _trim(self, keep_from: int) -> None:
        if keep_from <= self._base or not self._chunks:
            return
        pcm = np.concatenate(self._chunks)
        drop = min(pcm.size, keep_from - self._base)
        self._chunks = [pcm[drop:]]
        self._base += drop
