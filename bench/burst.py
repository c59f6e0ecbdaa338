"""Bursts: N candidates joining in the same second, against one agent worker on this machine.

For each burst size (default 2, 4, 8) a fresh worker is started (so every burst meets the same warm state),
N simulated candidates sign in, ask the api for an interview at the same instant, join, hear the greeting,
answer twice (each answer is a reply to time), and leave. Printed and written to bench/results/burst.json
with a plot bench/results/burst.png:
- dispatch: candidate joined -> agent participant in the room
- greeting: candidate joined -> first audible frame of the greeting
- reply: end of the candidate's answer -> first audible frame of the agent's reply (the candidate's clock)
- busy: candidates the api refused with 503 "busy" (and the Retry-After it gave) once every worker is full
- memory: proportional memory (PSS) of the worker's process tree, idle and at the burst's peak, per interview
p50/p95/p99 with their counts; a percentile of fewer samples than it needs is printed as the max.

Usage: uv run python bench/burst.py [--bursts 2 4 8] [--capacity 4] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lifecycle import build_rig
from interviewer.bench.candidate import (
    Candidate,
    CandidateError,
    InterviewersBusy,
    sign_in_anonymously,
    start_interview,
)
from interviewer.procs import ManagedProcess, descendants, free_port
from interviewer.store import Store

RESULTS = Path(__file__).parent / "results"
ANSWERS = (
    "Yes, I am ready. Thank you for having me.",
    "I am a backend engineer and I build payment services in Python.",
)
TURN_TIMEOUT = 60.0


@dataclass
class Session:
    index: int
    busy: bool = False
    retry_after: int | None = None
    error: str | None = None
    dispatch_s: float | None = None
    greeting_s: float | None = None
    replies_s: list[float] = field(default_factory=list)


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    ordered = sorted(values)

    def q(p: float) -> float | None:
        if not ordered:
            return None
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return {"n": len(ordered), "p50": q(0.5), "p95": q(0.95), "p99": q(0.99), "max": q(1.0)}


def pss_mb(root: int) -> float:
    """Proportional set size of `root` and its descendants: shared pages (the forkserver's imports, the
    libraries) counted once across the tree, which RSS would count once per process."""
    total_kb = 0
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total_kb += int(line.split()[1])
                        break
        except OSError:
            continue
    return total_kb / 1024


class PeakMemory:
    def __init__(self, root: int) -> None:
        self.root, self.peak = root, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, pss_mb(self.root))
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def one_candidate(index: int, api_url: str, emulator_host: str, start: asyncio.Event) -> Session:
    session = Session(index)
    uid, id_token = await asyncio.to_thread(sign_in_anonymously, emulator_host)
    await start.wait()  # every candidate of the burst asks at the same instant
    try:
        interview = await asyncio.to_thread(start_interview, api_url, id_token, "backend-engineer", uid=uid)
    except InterviewersBusy as busy:
        session.busy = True
        session.retry_after = round(busy.retry_after)
        return session
    except CandidateError as error:
        session.error = str(error)
        return session
    candidate = Candidate(interview)
    try:
        await candidate.join()
        spoken = await candidate.converse(list(ANSWERS), turn_timeout=TURN_TIMEOUT)
        await candidate.wait_agent_turn_done(TURN_TIMEOUT)  # the reply to the last answer
        session.dispatch_s = candidate.timings.dispatch_seconds
        session.greeting_s = candidate.timings.greeting_seconds
        session.replies_s = candidate.timings.response_seconds
        if len(spoken) < len(ANSWERS):
            session.error = f"the conversation stopped after {len(spoken)} answers"
    except Exception as error:  # a failed session is a data point
        session.error = repr(error)
    finally:
        await candidate.leave()
        async with httpx.AsyncClient() as client:
            await client.post(
                f"{api_url}/v1/interviews/{interview.interview_id}/end",
                headers={"Authorization": f"Bearer {id_token}"},
            )
    return session


def start_worker(env: dict[str, str], workdir: Path, capacity: int) -> tuple[ManagedProcess, str, float]:
    port = free_port()
    started = time.monotonic()
    worker = ManagedProcess(
        "agent-worker",
        [sys.executable, "-m", "interviewer.cli", "agent"],
        env={**env, "AGENT_HEALTH_PORT": str(port), "MAX_INTERVIEWS_PER_WORKER": str(capacity)},
        log_path=workdir / f"worker-{port}.log",
    ).start()
    health = f"http://127.0.0.1:{port}"
    worker.wait_http(f"{health}/readyz", timeout=180)
    return worker, health, time.monotonic() - started


async def wait_heartbeat(store: Store, timeout: float = 15.0) -> None:
    from interviewer.store import fleet

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fleet.capacity(store, fresh_for=8, pending_for=30).known:
            return
        await asyncio.sleep(0.2)
    raise SystemExit("the worker never sent a heartbeat")


async def burst(size: int, rig: Any, capacity: int) -> dict[str, Any]:
    worker, _health, ready_s = await asyncio.to_thread(start_worker, rig.env, rig.workdir, capacity)
    try:
        await wait_heartbeat(rig.store)
        await asyncio.sleep(2.0)  # let the warm processes settle: the burst meets an idle worker
        idle_mb = pss_mb(worker.pid)
        start = asyncio.Event()
        with PeakMemory(worker.pid) as memory:
            tasks = [
                asyncio.create_task(one_candidate(i, rig.api_url, rig.emulator_host, start))
                for i in range(size)
            ]
            await asyncio.sleep(1.0)  # everyone signed in; now the same instant for all
            load_before = os.getloadavg()
            start.set()
            sessions = await asyncio.gather(*tasks)
    finally:
        worker.stop(timeout=60)
    admitted = [s for s in sessions if not s.busy]
    ok = [s for s in admitted if s.error is None]
    live_peak = len(admitted)
    return {
        "burst": size,
        "capacity": capacity,
        "worker_ready_s": round(ready_s, 2),
        "admitted": len(admitted),
        "busy": sum(s.busy for s in sessions),
        "busy_retry_after_s": sorted({s.retry_after for s in sessions if s.retry_after is not None}),
        "errors": [s.error for s in sessions if s.error],
        "success": len(ok),
        "dispatch_s": percentiles([s.dispatch_s for s in ok if s.dispatch_s is not None]),
        "greeting_s": percentiles([s.greeting_s for s in ok if s.greeting_s is not None]),
        "reply_s": percentiles([r for s in ok for r in s.replies_s]),
        "memory_mb": {
            "worker_tree_idle": round(idle_mb),
            "worker_tree_peak": round(memory.peak),
            "per_interview_at_peak": round(memory.peak / max(1, live_peak)),
            "added_per_interview": round((memory.peak - idle_mb) / max(1, live_peak)),
        },
        "loadavg_before": load_before,
        "sessions": [asdict(s) for s in sessions],
    }


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(14, 4))
    for axis, metric, title in zip(
        axes, ("dispatch_s", "greeting_s", "reply_s"), ("dispatch", "greeting", "reply"), strict=True
    ):
        for result in results:
            values = sorted(
                v
                for s in result["sessions"]
                if not s["busy"] and s["error"] is None
                for v in ([s[metric]] if metric != "reply_s" else s["replies_s"])
                if v is not None
            )
            if values:
                fraction = [(i + 1) / len(values) for i in range(len(values))]
                axis.step(values, fraction, where="post", label=f"burst of {result['burst']}")
        axis.set_title(f"{title} (s)")
        axis.set_ylabel("fraction of candidates")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(f"Bursts against one worker (capacity {results[0]['capacity']}), {os.cpu_count()} cores")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-burst-"))
    rig, started = build_rig(workdir)
    results = []
    try:
        for _round in range(args.rounds):
            for size in args.bursts:
                print(f"burst of {size} (capacity {args.capacity}) ...", flush=True)
                result = await burst(size, rig, args.capacity)
                results.append(result)
                print(
                    f"  admitted {result['admitted']}/{size}, busy {result['busy']}, ok {result['success']}, "
                    f"dispatch p99 {result['dispatch_s']['p99']}, "
                    f"greeting p99 {result['greeting_s']['p99']}, "
                    f"reply p95 {result['reply_s']['p95']} (n={result['reply_s']['n']}), "
                    f"memory {result['memory_mb']}",
                    flush=True,
                )
    finally:
        for process in reversed(started):
            process.stop(timeout=20)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bursts", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument(
        "--capacity", type=int, default=None, help="MAX_INTERVIEWS_PER_WORKER (default: ours)"
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--name", default="burst")
    args = parser.parse_args()
    if args.capacity is None:
        from interviewer.config import load_settings

        args.capacity = load_settings(INTERVIEWER_MODE="test").max_interviews_per_worker
    results = asyncio.run(run(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    out.write_text(json.dumps({"machine": {"cores": os.cpu_count()}, "bursts": results}, indent=2))
    plot(results, RESULTS / f"{args.name}.png")
    summary = [{k: v for k, v in r.items() if k != "sessions"} for r in results]
    print(json.dumps(summary, indent=2))
    print(f"written to {out} and {RESULTS / (args.name + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
