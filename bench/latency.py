"""Reply latency on the real stack, measured by the simulated candidate, with the agent's stage breakdown.

    uv run python bench/latency.py                   # one interview at a time until >= 30 replies
    uv run python bench/latency.py --concurrent 4    # four interviews at once on one worker

`interviewer up` runs in its own process group (always torn down). Simulated candidates answer every question
with the next answer of bench/data/latency_answers.json, spoken by espeak-ng part by part with silent pauses
of 0.5-1.5 s inside the answer; an interview that ends (the Director closes it) is followed by a new one until
the replies are counted. Reported, printed and written to bench/results/latency.json (one entry per mode) and
bench/results/latency_cdf.png:

- reply latency: the end of the answer's last speech sample leaving the candidate's microphone → the first
  audible frame of the interviewer arriving at the candidate (candidate.py explains what that leaves out);
  p50/p95/p99 with counts;
- false cut-offs, per mid-answer pause: the interviewer's voice started during the rest of the answer, or
  the reply it gave was to the pause (its VAD's end of speech lies inside the pause);
- each reply's stages from the agent's own stamps (agent/turn_timings.py), on the same wall clock, as
  offsets from the end of the answer: the agent's VAD end of speech, the final transcript, the end of turn
  decided, the first model token, the first token of the spoken step (tools in between), the first TTS
  audio, the first frame pushed to the room, and the first audio heard by the candidate. With preemptive
  generation the model and the TTS start before the turn is decided, so the stages are the gaps between the
  stamps in the order they happened. They add up to the total when every stamp exists and lies between the
  candidate's two (within 0.1 s; one outside means two clocks or two definitions disagree); a reply where
  they do not is warned about and counted. A reply whose model or TTS started before the answer was over
  (preemptive generation from a transcript taken at a pause) is counted apart: `prepared_during_answer`.

With --concurrent N, the N candidates answer their first question together, the worker admits interviews by
count alone (its refusal on slow replies or a busy CPU is switched off for the run, see ADMISSION_OVERRIDE),
and each answer records how many interviews were really running as it ended, so the figure for "N at once"
is read from those answers only.

The machine's load average is sampled through the run and written with the figures: on a shared machine
the figures are only as good as the load they were taken under.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field

sys.path.insert(0, str(Path(__file__).parent))
from startup import percentile, start_stack, stop_stack

from interviewer.agent.turn_timings import TurnTimings
from interviewer.bench.candidate import (
    AnswerTimings,
    Candidate,
    Interview,
    InterviewersBusy,
    Timings,
    sign_in_anonymously,
    start_interview,
)
from interviewer.procs import free_port

DATA = Path(__file__).parent / "data" / "latency_answers.json"
RESULTS = Path(__file__).parent / "results"
ROLE = "backend-engineer"
THINK_S = 0.5  # a candidate takes a breath after the question before answering
TURN_TIMEOUT_S = 60.0
START_LINE_TIMEOUT_S = 900.0  # the first lane in waits for the last (an idle candidate is prompted)
GREETING_TIMEOUT_S = 180.0  # a job process starting on a saturated machine takes its time
STAGE_SLACK_S = 0.1
PAUSE_EDGE_S = 0.15  # the agent hears a pause start this much after it left the candidate, at most
MATCH_WINDOW_S = 1.0  # a reply's first frame is pushed at most this long before it is heard
STACK_ATTEMPTS = 3
ADMISSION_OVERRIDE = {"REPLY_BUDGET_SECONDS": "30", "CPU_FULL_FRACTION": "1.0"}
BUSY_BUDGET_S = 300.0  # a worker still closing an interview (or a loaded machine) may refuse for a while


class SpokenAnswer(BaseModel):
    parts: list[str] = Field(min_length=1)
    pauses: list[float]


class AnswerSet(BaseModel):
    about: str
    answers: list[SpokenAnswer] = Field(min_length=1)


PREPARED = ("token", "spoken", "tts")  # what preemptive generation may start early
STAGES = (
    ("vad", "the agent's VAD end of speech"),
    ("transcript", "final transcript"),
    ("turn", "end of turn decided"),
    ("token", "first model token"),
    ("spoken", "first token of the spoken step"),
    ("tts", "first TTS audio"),
    ("pushed", "first frame pushed to the room"),
    ("heard", "first audio heard (candidate)"),
)


@dataclass
class Measured:
    """One answer and what followed it."""

    interview: int
    text: str
    ended: float  # wall clock: when the answer's last speech sample left
    pauses: int
    latency: float | None  # None: no clean reply to measure (none, overlapping, or a reply to a pause)
    talked_over: list[bool]  # per pause: the interviewer's voice started before the answer was over
    answered_pause: list[bool]  # per pause: the reply heard was decided on that pause
    offsets: dict[str, float | None] | None = None  # each stamp - the answer's end; None: no stamp
    violation: bool = False
    prepared_during_answer: bool = False  # the model / TTS started on this reply before the answer ended
    note: str = ""


@dataclass
class Lane:
    """One simulated candidate, running interviews one after another until its quota of answers."""

    index: int
    quota: int
    api_url: str
    emulator_host: str
    duration: int
    answers: list[SpokenAnswer]
    measured: list[Measured] = field(default_factory=list)
    underruns: int = 0
    interviews: int = 0
    busy_waits: int = 0
    errors: list[str] = field(default_factory=list)
    live: list[tuple[float, float]] = field(default_factory=list)  # (joined, left) of each interview
    raw: list[dict[str, Any]] = field(default_factory=list)  # what each interview recorded, for a second look
    start_together: _StartLine | None = None

    async def run(self) -> None:
        next_answer = self.index * 7  # lanes start at different answers
        while len(self.measured) < self.quota and self.interviews < self.quota:
            start_line, self.start_together = self.start_together, None
            # With a start line, lanes are let in one at a time (a job's model loading is a CPU spike the
            # worker's admission reads as "full"), then all answer their first question together.
            async with start_line.one_at_a_time if start_line else contextlib.nullcontext():
                try:
                    interview = await self._start()
                except Exception as error:  # what was measured so far is still reported
                    self.errors.append(f"interview {self.interviews + 1}: {error!r}")
                    if start_line:
                        start_line.gave_up()
                    return
                self.interviews += 1
                candidate = Candidate(interview)
                try:
                    await candidate.join()
                    greeted = await candidate.wait_agent_turn_done(GREETING_TIMEOUT_S)
                    # Running from the greeting: a room whose agent never came is not an interview.
                    running_since = time.time()
                except Exception as error:
                    self.errors.append(f"interview {self.interviews}: {error!r}")
                    greeted, running_since = False, time.time()
            if start_line:
                await start_line.reached()
            spoken: list[AnswerTimings] = []
            asked = greeted  # the interviewer has spoken and listens: time to answer
            try:
                while asked:
                    if len(self.measured) + len(spoken) >= self.quota:
                        # The last reply has played; its stage packet follows it.
                        await _wait_for_turn_after(candidate.timings, spoken[-1].ended, 5.0)
                        break
                    await asyncio.sleep(THINK_S)
                    answer = self.answers[next_answer % len(self.answers)]
                    next_answer += 1
                    spoken.append(await candidate.say_parts(answer.parts, answer.pauses))
                    print(f"  lane {self.index}: answer {len(self.measured) + len(spoken)}/{self.quota}")
                    asked = await candidate.wait_agent_turn_done(TURN_TIMEOUT_S)
            except Exception as error:
                self.errors.append(f"interview {self.interviews}: {error!r}")
            finally:
                await candidate.leave()
                if greeted:
                    self.live.append((running_since, time.time()))
            self.underruns += candidate.timings.underruns
            self.measured += [measure(a, candidate.timings, self.interviews) for a in spoken]
            self.raw.append(
                {
                    "lane": self.index,
                    "interview": self.interviews,
                    "answers": [asdict(a) for a in spoken],
                    "agent_turns": [t.model_dump() for t in candidate.timings.turns],
                    "agent_onsets": candidate.timings.agent_onsets(),
                }
            )

    async def _start(self) -> Interview:
        """A new interview, waiting as the api asks while every interviewer is busy (bounded)."""
        deadline = time.monotonic() + BUSY_BUDGET_S
        while True:
            # Blocking http off the loop: the other lanes' microphones keep sending meanwhile.
            uid, id_token = await asyncio.to_thread(sign_in_anonymously, self.emulator_host)
            try:
                return await asyncio.to_thread(
                    start_interview, self.api_url, id_token, ROLE, duration_minutes=self.duration, uid=uid
                )
            except InterviewersBusy as busy:
                self.busy_waits += 1
                if time.monotonic() + busy.retry_after > deadline:
                    raise
                print(f"  lane {self.index}: every interviewer busy; retrying in {busy.retry_after:.0f} s")
                await asyncio.sleep(busy.retry_after)


@dataclass
class _StartLine:
    """Lets lanes in one at a time, then holds each at its first question until every lane is there."""

    lanes: int
    timeout: float
    one_at_a_time: asyncio.Lock = field(default_factory=asyncio.Lock)
    _arrived: int = 0
    _all: asyncio.Event = field(default_factory=asyncio.Event)

    def gave_up(self) -> None:
        self.lanes -= 1
        if self._arrived >= self.lanes:
            self._all.set()

    async def reached(self) -> None:
        self._arrived += 1
        if self._arrived >= self.lanes:
            self._all.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all.wait(), self.timeout)


async def _wait_for_turn_after(timings: Timings, after: float, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not any(t.first_frame_pushed > after for t in timings.turns):
        await asyncio.sleep(0.05)


def measure(answer: AnswerTimings, timings: Timings, interview: int) -> Measured:
    # Each pause owns the time from its start to the next pause's start (or the answer's end).
    ends = [p_from for p_from, _ in answer.pauses[1:]] + ([answer.ended] if answer.pauses else [])
    onsets = timings.agent_onsets()
    talked_over = [
        any(p_from <= t < end for t in onsets) for (p_from, _), end in zip(answer.pauses, ends, strict=True)
    ]
    answered_pause = [
        any(
            t.user_speech_end is not None and p_from - PAUSE_EDGE_S <= t.user_speech_end < p_to
            for t in timings.turns
        )
        for p_from, p_to in answer.pauses
    ]
    result = Measured(
        interview=interview,
        text=answer.text,
        ended=answer.ended,
        pauses=len(answer.pauses),
        latency=None,
        talked_over=talked_over,
        answered_pause=answered_pause,
    )
    reply = timings.reply_to(answer)
    if reply is None:
        result.note = "no reply heard"
        return result
    turn = _turn_for(reply.heard, timings.turns)
    if reply.overlapped:
        result.note = "the interviewer was still audible when the answer ended"
        return result
    if turn is not None and turn.user_speech_end is not None and turn.user_speech_end < answer.ended - 0.3:
        result.note = "the reply heard answered a pause, not the end"
        return result
    result.latency = reply.seconds
    if turn is None:
        result.note = "no stage stamps from the agent"
        result.violation = True
        return result
    stamps = {
        "vad": turn.user_speech_end,
        "transcript": turn.transcript_final,
        "turn": turn.turn_end,
        "token": turn.first_token,
        "spoken": turn.spoken_token,
        "tts": turn.first_tts_audio,
        "pushed": turn.first_frame_pushed,
        "heard": reply.heard,
    }
    result.offsets = {name: None if t is None else t - answer.ended for name, t in stamps.items()}
    missing = [name for name, offset in result.offsets.items() if offset is None]
    # Preemptive generation may start the model and the TTS before the answer is over (from a transcript
    # at a pause); those two are reported apart. Any other stamp outside the candidate's two is a mismatch.
    early = [n for n in PREPARED if (o := result.offsets[n]) is not None and o < -STAGE_SLACK_S]
    outside = [
        name
        for name, offset in result.offsets.items()
        if offset is not None
        and name not in early
        and not -STAGE_SLACK_S <= offset <= reply.seconds + STAGE_SLACK_S
    ]
    result.prepared_during_answer = bool(early)
    result.note = "; ".join(
        [f"no stamp for: {', '.join(missing)}"] * bool(missing)
        + [f"outside the candidate's interval: {', '.join(outside)}"] * bool(outside)
    )
    result.violation = bool(missing or outside)
    return result


def _turn_for(heard: float, turns: list[TurnTimings]) -> TurnTimings | None:
    before = [t for t in turns if 0 <= heard - t.first_frame_pushed <= MATCH_WINDOW_S]
    return max(before, key=lambda t: t.first_frame_pushed) if before else None


def summarize(values: list[float]) -> dict[str, float | int | None]:
    return {
        "n": len(values),
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "mean": statistics.fmean(values) if values else None,
        "max": max(values) if values else None,
    }


def stage_line(m: Measured) -> str:
    """The stamps in the order they happened, as offsets from the answer's end, then the stage gaps."""
    if m.offsets is None:
        return f"total {m.latency:.2f} s ({m.note})" if m.latency is not None else m.note
    present = _in_order(m.offsets)
    timeline = " ".join(f"{name}@{t:+.2f}" for t, name in present)
    missing = [name for name, t in m.offsets.items() if t is None]
    return f"total {m.latency:.2f} s: {timeline}" + (f" (no {', '.join(missing)})" if missing else "")


def _in_order(offsets: dict[str, float | None]) -> list[tuple[float, str]]:
    """Present stamps by time; simultaneous ones in pipeline order."""
    rank = {name: i for i, (name, _) in enumerate(STAGES)}
    return sorted(
        ((t, name) for name, t in offsets.items() if t is not None), key=lambda e: (e[0], rank[e[1]])
    )


def complete(m: Measured) -> bool:
    return m.offsets is not None and not m.violation


def gaps(offsets: dict[str, float | None]) -> list[tuple[str, float]]:
    """(stamp, time since the previous stamp), in the order they happened, from the answer's end."""
    present = _in_order(offsets)
    result, previous = [], 0.0
    for t, name in present:
        result.append((name, t - previous))
        previous = t
    return result


async def sample_load(samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(os.getloadavg()[0])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 5.0)


async def run(args: argparse.Namespace, api_url: str, emulator_host: str) -> tuple[list[Lane], list[float]]:
    answers = AnswerSet.model_validate_json(Path(args.answers).read_text()).answers
    quota = -(-args.replies // args.concurrent)
    lanes = [Lane(i, quota, api_url, emulator_host, args.duration, answers) for i in range(args.concurrent)]
    if args.concurrent > 1:
        start_line = _StartLine(args.concurrent, START_LINE_TIMEOUT_S)
        for lane in lanes:
            lane.start_together = start_line
    load: list[float] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_load(load, stop))
    try:
        await asyncio.gather(*(lane.run() for lane in lanes))
    finally:
        stop.set()
        await sampler
    return lanes, load


def report(args: argparse.Namespace, lanes: list[Lane], load: list[float], wall: float) -> dict[str, Any]:
    measured = [m for lane in lanes for m in lane.measured]
    latencies = [m.latency for m in measured if m.latency is not None]
    live = [interval for lane in lanes for interval in lane.live]
    # How many interviews were really running as each answer ended: the api may refuse some (busy).
    running = [sum(1 for start, end in live if start <= m.ended <= end) for m in measured]
    full = [
        m.latency
        for m, n in zip(measured, running, strict=True)
        if n >= args.concurrent and m.latency is not None
    ]
    pauses = sum(m.pauses for m in measured)
    cut = [
        over or answered
        for m in measured
        for over, answered in zip(m.talked_over, m.answered_pause, strict=True)
    ]
    # The breakdown is read from replies whose every stage was stamped, in order.
    staged = sorted((m for m in measured if complete(m)), key=lambda m: m.latency or 0.0)
    median_turn = staged[(len(staged) - 1) // 2] if staged else None
    offset_medians = {
        name: statistics.median(m.offsets[name] or 0.0 for m in staged if m.offsets)
        for name, _ in STAGES
        if staged
    }
    mode = f"concurrent_{args.concurrent}" if args.concurrent > 1 else "single"
    return {
        "key": f"{mode} ({args.label})" if args.label else mode,
        "mode": mode,
        "label": args.label,
        "concurrent": args.concurrent,
        "interviews": sum(lane.interviews for lane in lanes),
        "answers": len(measured),
        "wall_s": round(wall, 1),
        "machine": {
            "cores": os.cpu_count(),
            "loadavg_1m_mean": statistics.fmean(load) if load else None,
            "loadavg_1m_max": max(load) if load else None,
            "loadavg_at_end": os.getloadavg(),
        },
        "reply_latency_s": summarize(latencies),
        "interviews_running_at_answer_end": {str(n): running.count(n) for n in sorted(set(running))},
        "reply_latency_all_running_s": summarize(full) if args.concurrent > 1 else None,
        "admission": ADMISSION_OVERRIDE if args.concurrent > 1 else None,
        "not_measured": {
            note: sum(1 for m in measured if m.latency is None and m.note == note)
            for note in {m.note for m in measured if m.latency is None}
        },
        "false_cutoffs": {
            "pauses": pauses,
            "cut": sum(cut),
            "rate": sum(cut) / pauses if pauses else None,
            "talked_over_a_pause": sum(o for m in measured for o in m.talked_over),
            "replied_to_a_pause": sum(a for m in measured for a in m.answered_pause),
        },
        "median_turn": None if median_turn is None else asdict(median_turn),
        "median_offsets_s": offset_medians,  # each stamp's median offset from the answer's end
        "median_turn_stages_s": gaps(median_turn.offsets) if median_turn and median_turn.offsets else None,
        "complete_breakdowns": len(staged),
        "stage_violations": sum(1 for m in measured if m.latency is not None and m.violation),
        "prepared_during_answer": sum(1 for m in measured if m.prepared_during_answer),
        "microphone_underruns": sum(lane.underruns for lane in lanes),
        "busy_refusals": sum(lane.busy_waits for lane in lanes),
        "errors": [error for lane in lanes for error in lane.errors],
        "turns": [asdict(m) for m in measured],
        "raw": [record for lane in lanes for record in lane.raw],
    }


def write(result: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "latency.json"
    modes: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    modes[result["key"]] = result
    path.write_text(json.dumps(modes, indent=2))
    plot(modes, RESULTS / "latency_cdf.png")
    print(f"written to {path} and {RESULTS / 'latency_cdf.png'}")


def plot(modes: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, result in sorted(modes.items()):
        values = sorted(t["latency"] for t in result["turns"] if t["latency"] is not None)
        if not values:
            continue
        fractions = [(i + 1) / len(values) for i in range(len(values))]
        load = result["machine"]["loadavg_1m_mean"]
        label = f"{name} (n={len(values)}, load {load:.1f})"
        ax.step([values[0], *values], [0.0, *fractions], where="post", label=label)
    for target, label in ((0.8, "p50 target"), (1.2, "p95 target"), (1.5, "p95, 4 at once")):
        ax.axvline(target, linestyle=":", color="grey")
        ax.text(target, 0.02, f" {label}", rotation=90, va="bottom", fontsize=8, color="grey")
    ax.set_xlabel("end of answer → first audible reply at the candidate (s)")
    ax.set_ylabel("fraction of replies")
    ax.set_ylim(0, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("Interviewer reply latency (CDF)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def print_report(result: dict[str, Any], lanes: list[Lane]) -> None:
    print("\nper reply (seconds after the answer's end, in the order they happened):")
    for lane in lanes:
        for i, m in enumerate(lane.measured):
            print(f"  lane {lane.index} #{i + 1:02d}: {stage_line(m)}")
            if m.violation:
                print(f"    WARNING: the stages do not add up to the total: {m.note}")
    summary = {k: v for k, v in result.items() if k not in ("turns", "median_turn")}
    print(json.dumps(summary, indent=2))
    median = result["median_turn"]
    if median is not None:
        print("median turn:", stage_line(Measured(**median)))
        for name, gap in result["median_turn_stages_s"] or []:
            print(f"  {gap:+6.2f} s  to {dict(STAGES)[name]}")


def start_with_retries(attempts: int) -> tuple[subprocess.Popen[str], Path, int]:
    """`interviewer up`, tried again when a part is slow to answer (a busy shared machine)."""
    for attempt in range(1, attempts + 1):
        data_dir = Path(tempfile.mkdtemp(prefix="bench-latency-"))
        port = free_port()
        try:
            return start_stack(data_dir, port), data_dir, port
        except SystemExit:
            print(f"the stack did not come up (attempt {attempt} of {attempts}); logs in {data_dir}")
    raise SystemExit("the stack did not come up")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replies", type=int, default=30, help="answers to measure in all (default 30)")
    parser.add_argument("--concurrent", type=int, default=1, help="interviews at once on the one worker")
    parser.add_argument("--duration", type=int, default=60, help="interview length asked of the api, minutes")
    parser.add_argument("--answers", default=str(DATA))
    parser.add_argument("--label", default="", help="what was measured (e.g. a commit); keeps runs apart")
    args = parser.parse_args()

    if args.concurrent > 1:
        # The worker refuses new interviews while its replies are slow or its CPU is busy (agent/load.py);
        # here the question is what N at once costs, so it admits by count alone (MAX_INTERVIEWS_PER_WORKER).
        os.environ.update(ADMISSION_OVERRIDE)
    stack, data_dir, port = start_with_retries(STACK_ATTEMPTS)
    started = time.monotonic()
    try:
        api_url = f"http://127.0.0.1:{port}"
        config = httpx.get(f"{api_url}/v1/config", timeout=5).json()
        emulator_host = re.sub(r"^https?://", "", config["firebase"]["emulatorUrl"]).rstrip("/")
        lanes, load = asyncio.run(run(args, api_url, emulator_host))
    finally:
        stop_stack(stack)
        print(f"stack stopped; its logs are in {data_dir}")
    result = report(args, lanes, load, time.monotonic() - started)
    print_report(result, lanes)
    write(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
