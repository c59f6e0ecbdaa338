"""Offline speech figures on this machine: STT/TTS real-time factors, TTS first-chunk latency, WER.

    uv run python bench/speech.py            # prints a table, writes bench/results/speech.json

Candidate answers are spoken by espeak-ng (as the simulator does); agent prompts by Piper and fed back to
Whisper (round trip). RTF = processing time / audio duration; lower is faster.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import time
from pathlib import Path

from livekit import rtc

from interviewer.bench.speech_sim import espeak_pcm, word_error_rate
from interviewer.config import load_settings
from interviewer.voice.offline.engine import OfflineSpeech

ANSWERS = [
    "Last year I led the migration of our billing service to a new database.",
    "I wrote the rollout plan, and we moved ten percent of traffic each week until we finished.",
    "The hardest part was convincing the team to delete the old cache, because everyone was attached to it.",
    "I measured the error rate every day, and when it went up I rolled back within an hour.",
    "We shipped two weeks early, and the on call load dropped by half.",
]
PROMPTS = [
    "Thanks for joining me today. Let's start with a project you are proud of.",
    "What was your part in it, and what did you do yourself?",
    "How did you know it worked? Give me a number if you have one.",
    "Tell me about a time you disagreed with your manager. What happened next?",
]


async def main() -> dict[str, object]:
    started = time.perf_counter()
    speech = OfflineSpeech.load(load_settings(INTERVIEWER_MODE="test"))
    load_s = time.perf_counter() - started

    stt_rtf, stt_wer = [], []
    for text in ANSWERS:
        pcm = espeak_pcm(text, sample_rate=48_000)
        frame = rtc.AudioFrame(pcm.tobytes(), 48_000, 1, pcm.size)
        t0 = time.perf_counter()
        event = await speech.whisper.recognize(frame)
        stt_rtf.append((time.perf_counter() - t0) / frame.duration)
        stt_wer.append(word_error_rate(text, event.alternatives[0].text))

    tts_rtf, first_chunk, rt_wer = [], [], []
    for text in PROMPTS:
        frames: list[rtc.AudioFrame] = []
        t0 = time.perf_counter()
        first: float | None = None
        async for event in speech.tts.synthesize(text):
            first = first if first is not None else time.perf_counter() - t0
            frames.append(event.frame)
        audio = rtc.combine_audio_frames(frames)
        tts_rtf.append((time.perf_counter() - t0) / audio.duration)
        first_chunk.append(first or 0.0)
        heard = await speech.whisper.recognize(audio)
        rt_wer.append(word_error_rate(text, heard.alternatives[0].text))

    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_seconds": round(load_s, 3),
        "stt": {
            "rtf_mean": round(statistics.mean(stt_rtf), 4),
            "wer_espeak_mean": round(statistics.mean(stt_wer), 4),
            "wer_espeak_each": [round(w, 3) for w in stt_wer],
        },
        "tts": {
            "rtf_mean": round(statistics.mean(tts_rtf), 4),
            "first_chunk_ms_median": round(1000 * statistics.median(first_chunk), 1),
            "first_chunk_ms_max": round(1000 * max(first_chunk), 1),
        },
        "round_trip": {"wer_piper_to_whisper_mean": round(statistics.mean(rt_wer), 4)},
    }


if __name__ == "__main__":
    results = asyncio.run(main())
    print(json.dumps(results, indent=2))
    out = Path(__file__).parent / "results" / "speech.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
