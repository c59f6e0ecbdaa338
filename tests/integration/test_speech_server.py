"""The worker's speech server: the real models in their own process, used through the same STT and TTS
classes a job process uses, by several callers at once."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from interviewer.bench.speech_sim import espeak_pcm, word_error_rate
from interviewer.interview import wording
from interviewer.procs import process_table
from interviewer.voice.offline.speech_server import (
    SOCKET_ENV,
    RemotePiperVoice,
    RemoteWhisperModel,
    SpeechClient,
    SpeechServerError,
    SpeechServerProcess,
)
from interviewer.voice.offline.stt import WhisperSTT
from interviewer.voice.offline.tts import PiperTTS

pytestmark = pytest.mark.integration

SENTENCES = (
    "I migrated our payment service to a new database without downtime.",
    "We cut the p99 latency by forty percent in two months.",
)


@pytest.fixture(scope="module")
def server() -> Iterator[SpeechServerProcess]:
    previous = os.environ.get(SOCKET_ENV)
    process = SpeechServerProcess()
    process.start()
    try:
        yield process
    finally:
        pid = process.pid
        process.stop()
        assert pid is not None and pid not in process_table(), "the speech server outlived its stop"
        if previous is None:
            os.environ.pop(SOCKET_ENV, None)
        else:
            os.environ[SOCKET_ENV] = previous


@pytest.fixture(scope="module")
def client(server: SpeechServerProcess) -> SpeechClient:
    client = SpeechClient(server.socket_name)
    assert client.wait_ready()["sample_rate"] > 0
    return client


async def test_several_interviews_transcribe_at_once(client: SpeechClient) -> None:
    stt = WhisperSTT(Path("model"), model=RemoteWhisperModel(client))
    clips = [espeak_pcm(text, sample_rate=16_000).astype(np.float32) / 32768.0 for text in SENTENCES]
    results = await asyncio.gather(
        *(asyncio.to_thread(stt.transcribe_blocking, clip, "en") for clip in clips * 2)
    )
    for (text, confidence), reference in zip(results, SENTENCES * 2, strict=True):
        assert word_error_rate(reference, text) <= 0.35, (reference, text)
        assert 0.0 < confidence <= 1.0


async def test_a_sentence_is_synthesised_by_the_server(client: SpeechClient) -> None:
    sample_rate = int(client.wait_ready()["sample_rate"])
    tts = PiperTTS(Path("en_US-joe-medium"), voice=RemotePiperVoice(client, sample_rate))
    chunks = list(tts.sentence_chunks("Thank you. Tell me about a hard bug you fixed."))
    pcm = np.frombuffer(b"".join(c.audio_int16_bytes for c in chunks), dtype=np.int16)
    assert tts.sample_rate == sample_rate
    assert pcm.size > sample_rate  # more than a second of speech
    assert float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) > 300  # audible, not silence


def test_a_bad_request_is_an_error_and_the_server_lives_on(client: SpeechClient) -> None:
    with pytest.raises(SpeechServerError, match="unknown op"):
        client.call({"op": "no-such-op"})
    assert client.call({"op": "ping"})[0]["ok"]


def test_a_stock_sentence_is_synthesised_once_and_then_served_from_memory(client: SpeechClient) -> None:
    voice = RemotePiperVoice(client, sample_rate=client.call({"op": "ping"})[0]["sample_rate"])
    fresh = "This sentence was never said before in this server, number one hundred and three."
    first = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(fresh))
    before = client.call({"op": "ping"})[0]
    again = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(" " + fresh))
    after = client.call({"op": "ping"})[0]
    assert first and again == first
    assert after["sentence_hits"] == before["sentence_hits"] + 1
    assert after["sentence_misses"] == before["sentence_misses"]
    # The greeting's opening was synthesised when the server started (or is being): the same audio either way.
    opening = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(wording.GREETING_OPENING))
    assert len(opening) > 0.5 * voice.config.sample_rate * 2  # at least half a second of 16-bit audio
