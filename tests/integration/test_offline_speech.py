"""The offline speech stack with the real models: latency shape, accuracy, integrity checks."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import stt

from interviewer.bench.speech_sim import espeak_pcm, espeak_wav, read_wav, word_error_rate
from interviewer.voice.offline import models
from interviewer.voice.offline.engine import OfflineSpeech

pytestmark = pytest.mark.integration

T = TypeVar("T")

# What an interviewer says: four sentences, the first the shortest, so the first chunk can leave early.
PROMPT = (
    "Thanks for joining me today. "
    "Let's start with a project you are proud of and the part you personally owned. "
    "Tell me about a difficult technical decision you had to make on it. "
    "What did you decide, and what happened as a result?"
)
ANSWER = (
    "Last year I led the migration of our billing service to a new database. "
    "I planned the rollout in three phases and we finished two weeks early."
)


def _frame(pcm: np.ndarray, sample_rate: int) -> rtc.AudioFrame:
    return rtc.AudioFrame(pcm.astype(np.int16).tobytes(), sample_rate, 1, pcm.size)


async def _with_loop_watch(work: Awaitable[T]) -> tuple[T, float, float]:
    """Run `work` while a 10 ms ticker measures the longest stall of the event loop."""
    longest = 0.0
    ticking = asyncio.Event()
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal longest
        last = time.perf_counter()
        ticking.set()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await ticking.wait()  # the ticker must be running before the work starts, or a stall goes unseen
    started = time.perf_counter()
    try:
        result = await work
    finally:
        elapsed = time.perf_counter() - started
        done.set()
        await ticker
    return result, elapsed, longest


@pytest.fixture(scope="module")
def espeak_answer_48k() -> np.ndarray:
    return espeak_pcm(ANSWER, sample_rate=48_000)


async def test_tts_pushes_first_sentence_before_the_rest_is_synthesised(
    offline_speech: OfflineSpeech,
) -> None:
    tts = offline_speech.tts
    assert tts.sample_rate == 22_050
    started = time.perf_counter()
    first_chunk: float | None = None
    frames: list[rtc.AudioFrame] = []
    async with tts.synthesize(PROMPT) as stream:
        async for event in stream:
            if first_chunk is None:
                first_chunk = time.perf_counter() - started
            frames.append(event.frame)
    total = time.perf_counter() - started
    audio = rtc.combine_audio_frames(frames)

    assert first_chunk is not None
    assert audio.sample_rate == 22_050 and audio.num_channels == 1
    assert audio.duration > 6.0  # four sentences of speech, not a blip
    peak = np.abs(np.frombuffer(audio.data, dtype=np.int16)).max()
    assert peak > 3000
    # Sentence-by-sentence: the first of four sentences is out long before all of them are done.
    assert first_chunk < 0.5 * total, (first_chunk, total)


async def test_whisper_transcribes_espeak_without_blocking_the_loop(
    offline_speech: OfflineSpeech, espeak_answer_48k: np.ndarray
) -> None:
    event, elapsed, longest_stall = await _with_loop_watch(
        offline_speech.whisper.recognize(_frame(espeak_answer_48k, 48_000))
    )
    assert event.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    text = event.alternatives[0].text
    assert word_error_rate(ANSWER, text) <= 0.30, text
    # Blocking decode on the loop would stall the ticker for the whole transcription.
    assert longest_stall < 0.5 * elapsed, (longest_stall, elapsed)


async def test_streaming_stt_cuts_an_utterance_with_vad(
    offline_speech: OfflineSpeech, espeak_answer_48k: np.ndarray
) -> None:
    # As the session feeds it: 10 ms frames at 48 kHz, with silence around the answer.
    silence = np.zeros(48_000, dtype=np.int16)
    audio = np.concatenate([silence, espeak_answer_48k, silence])
    stream = offline_speech.stt.stream()
    for start in range(0, audio.size - 480 + 1, 480):
        stream.push_frame(_frame(audio[start : start + 480], 48_000))
    stream.end_input()

    async def collect() -> list[stt.SpeechEvent]:
        return [event async for event in stream]

    events = await asyncio.wait_for(collect(), timeout=30)
    kinds = [event.type for event in events]
    assert kinds[0] == stt.SpeechEventType.START_OF_SPEECH
    finals = [e.alternatives[0].text for e in events if e.type == stt.SpeechEventType.FINAL_TRANSCRIPT]
    # The answer's inner pauses (commas, the full stop) must not split it: one utterance, one transcript.
    assert len(finals) == 1, finals
    assert word_error_rate(ANSWER, finals[0]) <= 0.30, finals[0]


async def test_piper_to_whisper_round_trip(offline_speech: OfflineSpeech) -> None:
    audio = await offline_speech.tts.synthesize(PROMPT).collect()
    event = await offline_speech.whisper.recognize(audio)  # 22.05 kHz in: exercises the resampler too
    text = event.alternatives[0].text
    assert word_error_rate(PROMPT, text) <= 0.15, text


async def test_silence_gives_no_words(offline_speech: OfflineSpeech) -> None:
    event = await offline_speech.whisper.recognize(_frame(np.zeros(16_000, dtype=np.int16), 16_000))
    assert len(event.alternatives[0].text.split()) <= 1  # no invented sentence on silence


@pytest.mark.parametrize("rate", [16_000, 48_000])
def test_espeak_wav_is_mono_int16_at_the_asked_rate(tmp_path: Path, rate: int) -> None:
    path = tmp_path / "answer.wav"
    data = espeak_wav("-I led the team.", path, sample_rate=rate)  # a leading dash must not become a flag
    assert path.read_bytes() == data
    pcm, got_rate = read_wav(data)
    assert got_rate == rate
    assert 0.8 < pcm.size / rate < 3.0
    assert np.abs(pcm).max() > 3000


# --- integrity -------------------------------------------------------------------------------------------


def _fake_model_dir(tmp_path: Path, content: bytes = b"not really a whisper model") -> tuple[Path, str]:
    (tmp_path / models.STT_MODEL_FILE).write_bytes(content)
    return tmp_path, hashlib.sha256(content).hexdigest()


def test_bundled_models_match_pinned_hashes_and_are_hashed_once() -> None:
    models.locate_stt_model()
    models.locate_tts_voice()
    hits_before, misses_before = models.verification_cache_info()
    models.locate_stt_model()
    models.locate_tts_voice()
    hits_after, misses_after = models.verification_cache_info()
    assert misses_after == misses_before  # nothing hashed again
    assert hits_after == hits_before + 2


def test_sha_mismatch_names_the_file(tmp_path: Path) -> None:
    directory, _ = _fake_model_dir(tmp_path)
    with pytest.raises(models.ModelIntegrityError) as caught:
        models.locate_stt_model(model_dir=directory, expected_sha256="0" * 64)
    assert str(directory / models.STT_MODEL_FILE) in str(caught.value)
    assert caught.value.expected == "0" * 64


def test_override_checked_against_given_hash(tmp_path: Path) -> None:
    directory, digest = _fake_model_dir(tmp_path)
    assert models.locate_stt_model(model_dir=directory, expected_sha256=digest) == directory


def test_override_without_hash_is_loaded_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory, _ = _fake_model_dir(tmp_path)
    with caplog.at_level(logging.WARNING, logger=models.__name__):
        assert models.locate_stt_model(model_dir=directory) == directory
    assert "not hash-checked" in caplog.text


def test_file_changed_after_a_good_check_is_caught(tmp_path: Path) -> None:
    directory, digest = _fake_model_dir(tmp_path)
    models.locate_stt_model(model_dir=directory, expected_sha256=digest)
    (directory / models.STT_MODEL_FILE).write_bytes(b"swapped for something else entirely")
    with pytest.raises(models.ModelIntegrityError):
        models.locate_stt_model(model_dir=directory, expected_sha256=digest)


def test_tts_voice_override_mismatch(tmp_path: Path) -> None:
    voice = tmp_path / "en_US-someone-medium.onnx"
    voice.write_bytes(b"onnx bytes")
    Path(str(voice) + ".json").write_text("{}")
    with pytest.raises(models.ModelIntegrityError, match=r"en_US-someone-medium\.onnx"):
        models.locate_tts_voice(voice_path=voice, expected_sha256="f" * 64)
    with pytest.raises(models.ModelError, match="no Piper voice"):
        models.locate_tts_voice(voice_path=tmp_path / "missing.onnx")
