"""The streaming Whisper STT with the real models and real (espeak-ng) speech: it decodes at the first short
pause, uses that result when the turn ends with no more speech, drops it when speech resumes, and always
emits the final transcript when the session flushes."""

from __future__ import annotations

import asyncio

import numpy as np
import numpy.typing as npt
import pytest
from livekit import rtc
from livekit.agents import stt

from interviewer.bench.speech_sim import espeak_pcm, word_error_rate
from interviewer.voice.offline.engine import OfflineSpeech
from interviewer.voice.offline.stt_stream import DecodeCounts, StreamingWhisperSTT, is_non_lexical

pytestmark = pytest.mark.integration

RATE = 48_000  # what the session pushes (the room's rate); the stream resamples to 16 kHz itself
FIRST = "We, um,"
SECOND = "migrated the billing service to a new database last spring."
WHOLE = "Last year I led the migration of our billing service to a new database."


def _silence(seconds: float) -> npt.NDArray[np.int16]:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def _say(text: str) -> npt.NDArray[np.int16]:
    pcm = espeak_pcm(text, sample_rate=RATE)
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 300)
    return pcm[: loud[-1] + 1]  # espeak's own trailing silence would be a pause already


async def _transcribe(
    whisper_stt: StreamingWhisperSTT, audio: npt.NDArray[np.int16], *, flush: bool = True
) -> list[str]:
    """Push `audio` in 10 ms frames as the session does, flush as the session does at a turn's end, and
    return the final transcripts."""
    stream = whisper_stt.stream()
    step = RATE // 100
    for start in range(0, audio.size - step + 1, step):
        stream.push_frame(rtc.AudioFrame(audio[start : start + step].tobytes(), RATE, 1, step))
    if flush:
        stream.flush()
    stream.end_input()

    async def finals() -> list[str]:
        return [
            event.alternatives[0].text
            async for event in stream
            if event.type == stt.SpeechEventType.FINAL_TRANSCRIPT
        ]

    try:
        return await asyncio.wait_for(finals(), timeout=60)
    finally:
        await stream.aclose()


@pytest.fixture
def whisper_stt(offline_speech: OfflineSpeech) -> StreamingWhisperSTT:
    return StreamingWhisperSTT(offline_speech.whisper)  # fresh counts, the shared model


async def test_the_early_decode_becomes_the_final_transcript(whisper_stt: StreamingWhisperSTT) -> None:
    audio = np.concatenate([_silence(0.5), _say(WHOLE), _silence(0.8)])
    finals = await _transcribe(whisper_stt, audio)
    assert len(finals) == 1, finals
    assert word_error_rate(WHOLE, finals[0]) <= 0.30, finals[0]
    # One Whisper call, started at the pause and used at the flush: nothing was decoded after the turn ended.
    assert whisper_stt.counts == DecodeCounts(early_started=1, early_used=1, finals=1)


async def test_an_early_decode_is_dropped_when_speech_resumes(whisper_stt: StreamingWhisperSTT) -> None:
    audio = np.concatenate([_silence(0.5), _say(FIRST), _silence(0.9), _say(SECOND), _silence(0.8)])
    finals = await _transcribe(whisper_stt, audio)
    assert len(finals) == 1, finals
    # Both parts in one transcript: the decode of "We, um," alone was thrown away, the whole was used.
    # (Whisper leaves out the "um" by design.)
    assert word_error_rate(f"We {SECOND}", finals[0]) <= 0.30, finals[0]
    counts = whisper_stt.counts
    assert counts.early_dropped >= 1, counts
    assert counts.early_used == 1 and counts.at_flush == 0 and counts.finals == 1, counts


async def test_a_flush_during_speech_decodes_what_was_said(whisper_stt: StreamingWhisperSTT) -> None:
    # A manual commit while the candidate is still talking: no pause yet, so nothing to reuse.
    finals = await _transcribe(whisper_stt, np.concatenate([_silence(0.5), _say(WHOLE)]))
    assert len(finals) == 1 and word_error_rate(WHOLE, finals[0]) <= 0.40, finals
    assert whisper_stt.counts.at_flush == 1 and whisper_stt.counts.early_used == 0


async def test_silence_gives_no_transcript_and_no_decode(whisper_stt: StreamingWhisperSTT) -> None:
    assert await _transcribe(whisper_stt, _silence(2.0)) == []
    assert whisper_stt.counts == DecodeCounts()


@pytest.mark.parametrize(
    ("text", "wordless"),
    [
        ("Mm-hmm.", True),
        ("Mm-mm.", True),  # how Whisper heard espeak's "mm-hmm" through the room
        ("Mhm", True),
        ("uh-huh", True),
        ("Uh-uh.", True),
        ("Erm, um...", True),
        ("(coughing)", True),
        ("[BLANK_AUDIO]", True),
        ("Hmm. (coughs)", True),
        ("Yes.", False),
        ("Um, I think so.", False),
        ("Okay", False),
        ("I am", False),
        ("Ahead of time.", False),
        ("Huh? What do you mean?", False),
    ],
)
def test_wordless_transcripts(text: str, wordless: bool) -> None:
    assert is_non_lexical(text) is wordless
