"""The live voice interview on the real stack: livekit-server, Auth emulator, api and agent worker as real
processes, a simulated candidate speaking espeak-ng through the Python rtc SDK. Nothing is mocked."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from interviewer.bench.candidate import SAMPLE_RATE, interview_by_voice
from interviewer.bench.speech_sim import resample, word_error_rate
from interviewer.voice.offline.engine import OfflineSpeech
from tests.fixtures.livekit import room_names
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.integration

ANSWERS = [
    "Yes, I am ready. Thank you for having me.",
    "I am a backend engineer with six years of experience building payment services in Python.",
    (
        "At my last company I designed the event ingestion service. I built a queue based pipeline, and "
        "as a result latency dropped from nine hundred to one hundred milliseconds."
    ),
    # espeak-ng's "stop the interview" reaches Whisper tiny as "stop living to mute out"; this one survives.
    "Let us stop here. Please end the interview.",
]


def transcribe(speech: OfflineSpeech, pcm: np.ndarray, seconds: float | None = None) -> str:
    audio = resample(pcm, SAMPLE_RATE, 16_000).astype(np.float32) / 32768.0
    if seconds is not None:
        audio = audio[: int(seconds * 16_000)]
    text, _confidence = speech.whisper.transcribe_blocking(audio)
    return text.lower()


# This test times nothing, so its microphone may queue a full second. With the bench's shallow queue, an event
# loop stall of the candidate's own process on a loaded machine runs the queue dry mid-answer, and the
# receiver's jitter buffer then stretches and squeezes what follows: the likely cause of the one garbled
# answer seen in CI. The candidate's own stalls are not what this test is about; the bench counts them
# (`underruns`).
DEEP_MIC_QUEUE_MS = 1000


async def test_voice_interview_end_to_end(stack: Stack, offline_speech: OfflineSpeech) -> None:
    run = await interview_by_voice(
        stack.api_url, stack.emulator_host, "backend-engineer", ANSWERS, mic_queue_ms=DEEP_MIC_QUEUE_MS
    )
    interview_id = run.interview.interview_id

    # The candidate heard the greeting: its own transcription of the agent's audio has the key words.
    assert run.timings.first_agent_audio is not None, "no agent audio ever arrived"
    heard = transcribe(offline_speech, run.agent_audio, seconds=25)
    # Key words of the greeting (Whisper tiny hears "backend" as "backhand" in Piper's voice: not that one).
    assert "interview" in heard and "joining" in heard, heard

    # At least three questions answered by voice, and the agent ended the interview and left.
    assert len(run.answers_spoken) >= 4, run.answers_spoken
    assert run.agent_left, "the agent never left the room"

    # The database holds what the candidate said, within 30% WER.
    turns = [t.text for t in stack.store.turns(interview_id) if t.speaker == "candidate"]
    assert len(turns) >= 3
    said = " ".join(run.answers_spoken)
    assert word_error_rate(said, " ".join(turns)) <= 0.30, (
        turns,
        f"microphone underruns: {run.timings.underruns}",
    )

    # The report exists, the guard worked, the room is gone.
    report = stack.store.get_report(interview_id)
    assert report is not None
    assert report.report["guard"]["refused_tool_calls"] >= 1
    interview = stack.store.get_interview(interview_id)
    assert interview is not None and interview.status == "finished"
    for _ in range(50):
        if run.interview.room not in await room_names(stack.livekit):
            break
        await asyncio.sleep(0.1)
    assert run.interview.room not in await room_names(stack.livekit)
