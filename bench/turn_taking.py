"""Turn-taking policies on spoken answers with mid-answer pauses: reply latency against false cut-offs.

    uv run python bench/turn_taking.py      # prints a table, writes bench/results/turn_taking.{json,png}

The answers (bench/data/turn_taking_answers.json) are spoken part by part by two espeak-ng voices and Piper's
"joe", with a silent pause of 0.5-1.5 s between parts, then 3 s of silence after the real end; a little
noise stands in for a microphone. Each clip streams through the real Silero VAD (voice/offline/vad.py),
once per silence setting. A policy decides "the turn is over" at some moments of each clip:

- `vad S`: Silero's end of speech after S seconds of silence (turn_detection "vad").
- `<model> t a/b`: livekit-agents' streaming turn detection. At 0.2 s of silence the model is asked
  (inference time counted); the turn ends after `a` s of silence if P(end) >= t, else after `b` s. With
  `a` = 0.2 livekit never asks (the VAD has ended speech before the question is due), so `a` starts at 0.3.
- `text a/b`: the words so far (`transcript_looks_finished`, turn_models.py). The streaming STT starts a
  Whisper decode at 0.2 s of silence; the turn ends after `a` s of silence (or when that decode is done, if
  later) when the words look finished, else after `b` s. Decode time is counted as measured here.
- `text&<model>`: finished only when the words and the audio model both say so.
- `today`: what 1.8.9 did with our settings before this bench: Silero 0.7 s, the mini detector with its
  English threshold 0.36 and the streaming default max_delay 2.5 s.

A decision before the true end of speech is a false cut-off (the interviewer talks over a pause); the
first decision after it gives the latency. Parameters are chosen on the answers with an even index
("tune") and reported on the odd ones ("held-out"), so the figures are not fitted to what they report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import pickle
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from livekit import rtc
from livekit.agents import vad

sys.path.insert(0, str(Path(__file__).parent))
from turn_models import (
    SAMPLE_RATE,
    EndOfTurnModel,
    LiveKitMini,
    Prediction,
    SmartTurnV32,
    transcript_looks_finished,
)

from interviewer.bench.speech_sim import espeak_pcm, resample
from interviewer.voice.offline.stt import WhisperSTT
from interviewer.voice.offline.stt_stream import EARLY_DECODE_SILENCE_S, PREFIX_PADDING_S
from interviewer.voice.offline.tts import PiperTTS
from interviewer.voice.offline.vad import INTERVIEW_MIN_SILENCE_S, load_vad

DATA = Path(__file__).parent / "data" / "turn_taking_answers.json"
RESULTS = Path(__file__).parent / "results"
TRIGGER_SILENCE_S = 0.2  # livekit-agents asks the turn model at this much silence (MIN_SILENCE_DURATION_MS)
LEAD_S, TAIL_S = 0.4, 3.0
NOISE_RMS = 20.0  # int16; about -64 dBFS of hiss, so silence is not digital zero
MAX_CUTOFF_RATE = 0.05  # the bound: false cut-offs <= 5% of the mid-answer pauses
# The share of the reply budget (p50 0.8 s, p95 1.2 s from end of speech to the interviewer's voice) left
# for deciding the turn is over, after Piper's first sentence (~0.1 s) and the room's transport.
DECISION_BUDGET = (0.7, 1.0)
TEXT = "text"
SESSION_VAD_S = INTERVIEW_MIN_SILENCE_S  # the session VAD's end of speech: it flushes the streaming STT
BOTH = "&"  # "text&livekit-mini": finished only if both say so

VAD_ONLY_S = (0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.6)
SHORT_S = (0.3, 0.4, 0.5)
LONG_S = (0.8, 1.0, 1.2, 1.6, 2.0)
TODAY = ("livekit-mini", 0.36, 0.7, 2.5)
THRESHOLDS = tuple(round(float(t), 2) for t in np.linspace(0.05, 0.95, 19))
ALL_S = tuple(
    sorted({EARLY_DECODE_SILENCE_S, SESSION_VAD_S, *VAD_ONLY_S, *SHORT_S, *LONG_S, TODAY[2], TODAY[3]})
)


@dataclass(frozen=True)
class Voice:
    name: str
    espeak: tuple[str, int] | None  # (voice, words per minute); None for Piper


VOICES = (
    Voice("espeak-us-m3", ("en-us+m3", 165)),
    Voice("espeak-gb-f3", ("en-gb+f3", 150)),
    Voice("piper-joe", None),
)


@dataclass
class Clip:
    index: int
    kind: str
    voice: str
    pcm: npt.NDArray[np.int16]
    true_end: float  # seconds: the last speech sample of the answer
    mid_pauses: int
    eos: dict[float, list[tuple[float, float]]] = field(default_factory=dict)  # S -> [(time, run start)]
    triggers: dict[float, list[float]] = field(default_factory=dict)  # S -> model query times
    predictions: dict[tuple[str, float], Prediction] = field(default_factory=dict)
    transcripts: dict[float, str] = field(default_factory=dict)

    @property
    def split(self) -> str:
        return "tune" if self.index % 2 == 0 else "held-out"


def _trim(pcm: npt.NDArray[np.int16], level: int = 300) -> npt.NDArray[np.int16]:
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > level)
    return pcm[loud[0] : loud[-1] + 1] if loud.size else pcm[:0]


def _say(text: str, voice: Voice, piper: PiperTTS) -> npt.NDArray[np.int16]:
    if voice.espeak is not None:
        name, wpm = voice.espeak
        return _trim(espeak_pcm(text, sample_rate=SAMPLE_RATE, voice=name, rate=wpm))
    chunks = [chunk.audio_int16_array for chunk in piper.sentence_chunks(text)]
    return _trim(resample(np.concatenate(chunks).astype(np.int16), piper.sample_rate, SAMPLE_RATE))


def render(piper: PiperTTS) -> list[Clip]:
    answers = json.loads(DATA.read_text())["answers"]
    noise = np.random.default_rng(9)
    clips = []
    for voice in VOICES:
        for index, answer in enumerate(answers):
            pieces = [np.zeros(int(LEAD_S * SAMPLE_RATE), np.int16)]
            for number, part in enumerate(answer["parts"]):
                pieces.append(_say(part, voice, piper))
                if number < len(answer["pauses"]):
                    pieces.append(np.zeros(int(answer["pauses"][number] * SAMPLE_RATE), np.int16))
            true_end = sum(p.size for p in pieces) / SAMPLE_RATE
            pieces.append(np.zeros(int(TAIL_S * SAMPLE_RATE), np.int16))
            pcm = np.concatenate(pieces).astype(np.float64)
            pcm += noise.normal(0.0, NOISE_RMS, pcm.size)
            clip_pcm = np.clip(pcm, -32768, 32767).astype(np.int16)
            clips.append(Clip(index, answer["kind"], voice.name, clip_pcm, true_end, len(answer["pauses"])))
    return clips


async def run_vad(clip: Clip, silence: float, silero: vad.VAD) -> None:
    """Stream the clip through Silero in 10 ms frames; keep end-of-speech events and model query times."""
    stream = silero.stream()
    step = SAMPLE_RATE // 100
    for start in range(0, clip.pcm.size - step + 1, step):
        stream.push_frame(rtc.AudioFrame(clip.pcm[start : start + step].tobytes(), SAMPLE_RATE, 1, step))
    stream.end_input()
    eos: list[tuple[float, float]] = []
    triggers: list[float] = []
    asked = False
    async for event in stream:
        at = event.samples_index / SAMPLE_RATE
        if event.type == vad.VADEventType.END_OF_SPEECH:
            eos.append((at, at - event.silence_duration))
        elif event.type == vad.VADEventType.INFERENCE_DONE:
            if event.raw_accumulated_speech > 0:
                asked = False
            elif event.speaking and not asked and event.raw_accumulated_silence >= TRIGGER_SILENCE_S:
                triggers.append(at)  # what audio_recognition does: predict() once per pause, while speaking
                asked = True
    await stream.aclose()
    clip.eos[silence], clip.triggers[silence] = eos, triggers


def predict_all(clips: Sequence[Clip], models: Sequence[EndOfTurnModel]) -> None:
    for number, clip in enumerate(clips):
        speech_start = int(LEAD_S * SAMPLE_RATE)
        times = sorted({t for s in (*SHORT_S, TODAY[2]) for t in clip.triggers[s]})
        for model in models:
            for at in times:
                clip.predictions[(model.name, at)] = model.predict(
                    clip.pcm[: int(at * SAMPLE_RATE)], speech_start
                )
        print(f"models: {number + 1}/{len(clips)} clips", end="\r", file=sys.stderr)


def transcribe_pauses(clips: Sequence[Clip], whisper: WhisperSTT) -> None:
    """What the streaming STT decodes at each pause: the answer so far, from its early decode's start."""
    for number, clip in enumerate(clips):
        start = max(0, int((LEAD_S - PREFIX_PADDING_S) * SAMPLE_RATE))
        for at, _ in clip.eos[EARLY_DECODE_SILENCE_S]:
            audio = clip.pcm[start : int(at * SAMPLE_RATE)].astype(np.float32) / 32768.0
            began = time.perf_counter()
            text, _ = whisper.transcribe_blocking(audio)
            seconds = time.perf_counter() - began
            finished = float(transcript_looks_finished(text))
            clip.predictions[(TEXT, at)] = Prediction(finished, seconds)
            clip.transcripts[at] = text
        print(f"transcripts: {number + 1}/{len(clips)} clips", end="\r", file=sys.stderr)


@dataclass(frozen=True)
class Policy:
    name: str
    model: str | None = None
    threshold: float = 0.0
    short: float = 0.0
    long: float = 0.0

    def decisions(self, clip: Clip) -> list[float]:
        if self.model is None:
            return [at for at, _ in clip.eos[self.short]]
        out = []
        for at, run_start in clip.eos[self.short]:
            verdicts = [self._ask(clip, part, run_start, at) for part in self.model.split(BOTH)]
            if any(v is None for v in verdicts):  # never asked: livekit commits without a prediction
                out.append(at)
                continue
            if all(finished for finished, _ in verdicts if finished is not None):  # type: ignore[misc]
                out.append(max([at, *(ready for _, ready in verdicts if ready is not None)]))  # type: ignore[misc]
                continue
            # "not yet": the turn ends only if the same pause lasts `long` seconds
            same = [t for t, start in clip.eos[self.long] if abs(start - run_start) < 0.05 and t >= at]
            out.extend(same[:1])
        return out

    def _ask(self, clip: Clip, model: str, run_start: float, at: float) -> tuple[bool, float] | None:
        """(finished?, when the answer is ready) for this pause, or None if the model was never asked."""
        if model == TEXT:
            queries = [t for t, _ in clip.eos[EARLY_DECODE_SILENCE_S]]
        else:
            queries = clip.triggers[self.short]
        asked = [t for t in queries if run_start - 1e-9 <= t <= at + 1e-9]
        if not asked:
            return None
        prediction = clip.predictions[(model, asked[-1])]
        threshold = 0.5 if model == TEXT else self.threshold
        return prediction.probability >= threshold, asked[-1] + prediction.seconds


def vad_only(silence: float) -> Policy:
    return Policy(f"vad {silence:.1f}", None, 0.0, silence, silence)


def combined(model: str, threshold: float, short: float, long: float) -> Policy:
    if model == TEXT:
        return Policy(f"{TEXT} {short:.1f}/{long:.1f}", model, threshold, short, long)
    return Policy(f"{model} t={threshold:.2f} {short:.1f}/{long:.1f}", model, threshold, short, long)


def percentile(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def score(policy: Policy, clips: Sequence[Clip], *, keep: bool = False) -> dict[str, object]:
    latencies, cutoffs, cut_answers, missed = [], 0, 0, 0
    for clip in clips:
        decided = policy.decisions(clip)
        early = [d for d in decided if d < clip.true_end]
        cutoffs += len(early)
        cut_answers += bool(early)
        late = [d - clip.true_end for d in decided if d >= clip.true_end]
        if late:
            latencies.append(late[0])
        else:
            missed += 1
    pauses = sum(c.mid_pauses for c in clips)
    return {
        "policy": policy.name,
        "answers": len(clips),
        "mid_answer_pauses": pauses,
        "false_cutoffs": cutoffs,
        "false_cutoff_rate": round(cutoffs / pauses, 4) if pauses else 0.0,
        "answers_cut": cut_answers,
        "no_decision": missed,
        "latency_p50": percentile(latencies, 50),
        "latency_p95": percentile(latencies, 95),
        "latency_max": percentile(latencies, 100),
    } | ({"latencies": [round(x, 3) for x in latencies]} if keep else {})


def policies(models: Sequence[str]) -> list[Policy]:
    out = [vad_only(s) for s in VAD_ONLY_S]
    for short in SHORT_S:
        out.extend(combined(TEXT, 0.5, short, long) for long in LONG_S)
    for model in [*models, *(f"{TEXT}{BOTH}{m}" for m in models)]:
        for t in THRESHOLDS:
            for short in SHORT_S:
                out.extend(combined(model, t, short, long) for long in LONG_S)
    return out


def _rate(row: dict[str, object]) -> float:
    return float(row["false_cutoff_rate"])  # type: ignore[arg-type]


def _latency(row: dict[str, object]) -> tuple[float, float]:
    p50, p95 = row["latency_p50"], row["latency_p95"]
    return (float(p95) if p95 is not None else 99.0, float(p50) if p50 is not None else 99.0)  # type: ignore[arg-type]


def _parts(row: dict[str, object]) -> int:
    name = str(row["policy"])
    return 0 if name.startswith("vad ") else 1 + name.count(BOTH)


def best(rows: Sequence[dict[str, object]], prefix: str) -> dict[str, object] | None:
    """A family's pick on the tune answers. The issue's bound on false cut-offs comes first (an interviewer
    that talks over a pause for thought is worse than a slow one): the fastest policy within it; if none is
    within it, the one with the fewest cut-offs."""
    family = [r for r in rows if str(r["policy"]).startswith(prefix)]
    safe = [r for r in family if _rate(r) <= MAX_CUTOFF_RATE]
    if safe:  # within 10 ms, the simpler policy (fewer models to run)
        return min(safe, key=lambda r: (round(_latency(r)[1], 2), round(_latency(r)[0], 2), _parts(r)))
    return min(family, key=lambda r: (_rate(r), _latency(r)[1]), default=None)


def fastest_within_budget(rows: Sequence[dict[str, object]]) -> dict[str, object] | None:
    """For the record: the fewest cut-offs among policies that decide within the reply budget."""
    p50_max, p95_max = DECISION_BUDGET
    fast = [r for r in rows if _latency(r)[1] <= p50_max and _latency(r)[0] <= p95_max]
    return min(fast, key=lambda r: (_rate(r), _latency(r)[1]), default=None)


def inference_figures(clips: Sequence[Clip], names: Sequence[str]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for name in names:
        ms = [1000 * p.seconds for c in clips for (m, _), p in c.predictions.items() if m == name]
        out[name] = {"calls": len(ms), "ms_p50": percentile(ms, 50), "ms_p95": percentile(ms, 95)}
    return out


def separability(clips: Sequence[Clip], names: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """Per model and voice: the chance that a pause which really ends the answer gets a higher P(end) than
    a mid-answer pause (area under the ROC curve; 0.5 is a coin)."""
    out: dict[str, dict[str, float | None]] = {}
    for name in names:
        out[name] = {}
        for voice in VOICES:
            ends, mids = [], []
            for clip in (c for c in clips if c.voice == voice.name):
                for at in clip.triggers[SESSION_VAD_S]:
                    (ends if at >= clip.true_end else mids).append(clip.predictions[(name, at)].probability)
            if not ends or not mids:
                out[name][voice.name] = None
                continue
            wins = sum((e > m) + 0.5 * (e == m) for e in ends for m in mids)
            out[name][voice.name] = round(wins / (len(ends) * len(mids)), 3)
    return out


def text_examples(clips: Sequence[Clip], limit: int = 30) -> list[dict[str, object]]:
    """What Whisper heard at pauses of held-out answers, and how the rule read it."""
    out: list[dict[str, object]] = []
    for clip in clips:
        for at, text in clip.transcripts.items():
            if len(out) < limit and clip.voice == VOICES[0].name:
                where = "end" if at >= clip.true_end else "mid-answer"
                out.append({"pause": where, "heard": text, "finished": transcript_looks_finished(text)})
    return out


async def measure() -> list[Clip]:
    """Speak, stream through the VAD, ask the models, transcribe the pauses: the slow part (minutes)."""
    piper = PiperTTS.from_settings()
    clips = render(piper)
    silero = {s: load_vad(min_silence_duration=s) for s in ALL_S}
    for number, clip in enumerate(clips):
        await asyncio.gather(*(run_vad(clip, s, silero[s]) for s in ALL_S))
        print(f"vad: {number + 1}/{len(clips)} clips", end="\r", file=sys.stderr)
    predict_all(clips, [LiveKitMini(), SmartTurnV32()])
    transcribe_pauses(clips, WhisperSTT.from_settings())
    return clips


def early_stt(policy: Policy, clips: Sequence[Clip], vad_silence: float = SESSION_VAD_S) -> dict[str, object]:
    """When the final transcript is ready at an answer's real end, in seconds after the true end of speech:
    decoding from the first short pause (the streaming STT), decoding when the session's VAD ends speech
    (livekit's StreamAdapter over the same VAD), and decoding when the turn is decided (the StreamAdapter
    with the VAD's silence set to the turn's, as before this bench). Same measured decode times for all.
    What the reply waits for is the transcript's lateness past the turn decision."""
    early, adapter, decided, late_early, late_old = [], [], [], [], []
    for clip in clips:
        flushes = [t for t, _ in clip.eos[vad_silence] if t >= clip.true_end]
        starts = [t for t, _ in clip.eos[EARLY_DECODE_SILENCE_S] if t >= clip.true_end]
        decisions = [d for d in policy.decisions(clip) if d >= clip.true_end]
        if not flushes or not starts or not decisions:
            continue
        decode = clip.predictions[(TEXT, starts[0])].seconds
        ready = max(flushes[0], starts[0] + decode)
        early.append(ready - clip.true_end)
        adapter.append(flushes[0] + decode - clip.true_end)
        decided.append(decisions[0] - clip.true_end)
        late_early.append(max(0.0, ready - decisions[0]))
        late_old.append(decode)
    started = sum(len(c.eos[EARLY_DECODE_SILENCE_S]) for c in clips)
    flushed = sum(len(c.eos[vad_silence]) for c in clips)
    return {
        "answers": len(early),
        "session_vad_silence_s": vad_silence,
        "ready_early": {"p50": percentile(early, 50), "p95": percentile(early, 95)},
        "ready_at_vad_end": {"p50": percentile(adapter, 50), "p95": percentile(adapter, 95)},
        "turn_decided": {"p50": percentile(decided, 50), "p95": percentile(decided, 95)},
        "reply_waits_for_transcript_early": {
            "p50": percentile(late_early, 50),
            "p95": percentile(late_early, 95),
        },
        "reply_waits_for_transcript_decoding_at_turn_end": {
            "p50": percentile(late_old, 50),
            "p95": percentile(late_old, 95),
        },
        # Whisper calls: one per pause of 0.2 s; those at pauses the VAD ends become transcripts, the rest
        # are dropped when speech resumes (the price of decoding early).
        "early_decodes": started,
        "early_decodes_used": flushed,
        "early_decodes_dropped": started - flushed,
    }


async def main(cache: Path | None = None) -> dict[str, object]:
    logging.getLogger("livekit.plugins.silero").setLevel(logging.ERROR)  # "slower than realtime": pushed fast
    if cache is not None and cache.exists():
        measured = pickle.loads(cache.read_bytes())
    else:
        load_before, started = os.getloadavg(), time.perf_counter()
        clips = await measure()
        machine = {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
        measured = {"clips": clips, "machine": machine, "seconds": round(time.perf_counter() - started, 1)}
        if cache is not None:
            cache.write_bytes(pickle.dumps(measured))
    clips = measured["clips"]
    models = [LiveKitMini, SmartTurnV32]
    names = [m.name for m in models]
    by_name = {p.name: p for p in [*policies(names), combined(*TODAY)]}
    tune = [c for c in clips if c.split == "tune"]
    held = [c for c in clips if c.split == "held-out"]
    tune_rows = [score(p, tune) for p in by_name.values()]
    chosen_row = best(tune_rows, "")
    assert chosen_row is not None
    chosen = by_name[str(chosen_row["policy"])]
    families = (*names, TEXT, *(f"{TEXT}{BOTH}{m}" for m in names))
    picks = [best(tune_rows, family + " ") for family in families]
    compared = [*(vad_only(s) for s in VAD_ONLY_S), combined(*TODAY)]
    compared += [by_name[str(r["policy"])] for r in picks if r is not None]
    settings = {"model": chosen.model, "threshold": chosen.threshold, "short_silence_s": chosen.short}
    return {
        "what": "turn-end decision latency after the true end of speech; false cut-offs in mid-answer pauses",
        "machine": measured["machine"],  # while the clips were measured (inference times depend on it)
        "seconds": measured["seconds"],
        "clips": {
            "total": len(clips),
            "voices": [v.name for v in VOICES],
            "tune": len(tune),
            "held_out": len(held),
        },
        "rule": {"max_cutoff_rate": MAX_CUTOFF_RATE, "decision_budget_p50_p95_s": DECISION_BUDGET},
        "fastest_within_budget": fastest_within_budget(tune_rows),
        "model_inference": inference_figures(clips, [*names, TEXT]),
        "separability_auc": separability(clips, names),
        "chosen": chosen.name,
        "chosen_settings": settings | {"long_silence_s": chosen.long},
        "held_out": [score(p, held, keep=True) for p in compared],
        "tune": [score(p, tune) for p in compared],
        "chosen_by_voice": {v.name: score(chosen, [c for c in held if c.voice == v.name]) for v in VOICES},
        "chosen_by_kind": {
            k: score(chosen, [c for c in held if c.kind == k]) for k in sorted({c.kind for c in clips})
        },
        "early_stt": early_stt(chosen, held),
        "text_examples": text_examples(held),
        "all_tune": tune_rows,
    }


if __name__ == "__main__":
    from turn_plot import plot, table

    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, help="keep the measured clips here and reuse them (a pickle)")
    results = asyncio.run(main(parser.parse_args().cache))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "turn_taking.json").write_text(json.dumps(results, indent=1) + "\n")
    plot(results, RESULTS / "turn_taking.png")
    print(table(results))
    print(f"chosen: {results['chosen']}; wrote {RESULTS / 'turn_taking.json'} and turn_taking.png")
