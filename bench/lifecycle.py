"""Lifecycle benchmark on the real stack: drain time, orphan-free time after SIGKILL, leftovers over N cycles.

    uv run python bench/lifecycle.py [--cycles 200] [--drain-interviews 4] [--budget-minutes 240]
    # prints a summary, writes bench/results/lifecycle.json

Starts its own livekit-server, Firebase Auth emulator and api (each in its own process group, on loopback),
then runs the cycles of tests/fixtures/lifecycle.py (a fresh worker per cycle; SIGTERM, SIGINT, SIGKILL,
job crash, livekit-server restart, a second SIGTERM during the drain, in rotation; 1-3 live interviews each),
plus:
- drain time with N live interviews: SIGTERM → worker exited, every report stored and room deleted;
- time to orphan-free after SIGKILL of the worker parent (3 live interviews): parent reaped → no process of
  its group/session left.
A cycle costs 30-50 s on a 2-core machine, so 200 cycles take about 2 hours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interviewer.auth.emulator import build_auth_emulator
from interviewer.auth.emulator import wait_ready as wait_emulator
from interviewer.config import load_settings
from interviewer.livekit_server import build_livekit_process
from interviewer.livekit_server import wait_ready as wait_livekit
from interviewer.procs import ManagedProcess, free_port, group_alive
from interviewer.store import Store
from tests.fixtures.firebase import FirebaseEmulator
from tests.fixtures.lifecycle import CycleResult, Rig, event_for, interviews_for, run_cycle
from tests.fixtures.livekit import LiveKitServer
from tests.fixtures.stack import stack_env


def build_rig(workdir: Path) -> tuple[Rig, list[ManagedProcess]]:
    settings = load_settings(INTERVIEWER_MODE="test")
    started: list[ManagedProcess] = []
    livekit, livekit_config = build_livekit_process(settings, workdir / "livekit")
    # A bench killed outright must not leave its stack running: the kernel signals each child (main thread).
    livekit.parent_death_signal = signal.SIGTERM
    started.append(livekit.start())
    wait_livekit(livekit, livekit_config, timeout=30)
    emulator, emulator_config = build_auth_emulator(workdir / "firebase", project_id="demo-interviewer")
    emulator.parent_death_signal = signal.SIGTERM
    started.append(emulator.start())
    wait_emulator(emulator, emulator_config)
    env = stack_env(
        LiveKitServer(livekit_config, livekit),
        FirebaseEmulator(emulator_config, emulator, httpx.Client(timeout=10.0)),
        workdir,
    )
    port = free_port()
    api = ManagedProcess(
        "api",
        [sys.executable, "-m", "interviewer.cli", "api"],
        env={**env, "API_PORT": str(port)},
        log_path=workdir / "api.log",
        parent_death_signal=signal.SIGTERM,
    )
    started.append(api.start())
    api.wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
    rig = Rig(
        api_url=f"http://127.0.0.1:{port}",
        emulator_host=emulator_config.host,
        livekit_process=livekit,
        livekit=livekit_config,
        env=env,
        workdir=workdir,
        store=Store(env["DATABASE_URL"]),
    )
    return rig, started


async def bench(args: argparse.Namespace, rig: Rig) -> dict[str, object]:
    results: list[CycleResult] = []
    failures: list[str] = []

    async def cycle(event: str, interviews: int) -> CycleResult | None:
        try:
            result = await run_cycle(rig, event, interviews)
        except AssertionError as error:
            where = traceback.extract_tb(error.__traceback__)[-1]
            at = f"{Path(where.filename).name}:{where.lineno}"
            failure = f"{event}/{interviews}: {error or where.line} ({at})"
            failures.append(failure)
            print(f"  FAILED {failure}", flush=True)
            return None
        results.append(result)
        print(
            f"  {event:15} x{interviews} drain={result.drain_s} forced={result.forced_exit_s} "
            f"flip_ms={result.readyz_flip_ms} "
            f"orphan_free={result.orphan_free_s:.3f}s leftover={len(result.leftover)} "
            f"took={result.seconds:.1f}s",
            flush=True,
        )
        return result

    print(f"drain with {args.drain_interviews} live interviews:", flush=True)
    drain = await cycle("sigterm", args.drain_interviews)
    print("SIGKILL of the worker parent with 3 live interviews:", flush=True)
    killed = await cycle("sigkill", 3)
    print(f"{args.cycles} cycles (budget {args.budget_minutes} min):", flush=True)
    deadline = time.monotonic() + args.budget_minutes * 60
    for n in range(args.cycles):
        if time.monotonic() > deadline:
            print(f"  time budget spent after {n} cycles", flush=True)
            break
        await cycle(event_for(n), interviews_for(n))
    kills = [r.orphan_free_s for r in results if r.event == "sigkill" and r.orphan_free_s is not None]
    flips = [r.readyz_flip_ms for r in results if r.readyz_flip_ms is not None]
    forced = [r.forced_exit_s for r in results if r.forced_exit_s is not None]
    drains = [r.drain_s for r in results if r.drain_s is not None]
    return {
        "drain_seconds_with_n_interviews": drain and drain.drain_s,
        "drain_interviews": args.drain_interviews,
        "orphan_free_seconds_after_sigkill": killed and killed.orphan_free_s,
        "orphan_free_after_sigkill_max": max(kills) if kills else None,
        "drain_seconds_median": statistics.median(drains) if drains else None,
        "drain_seconds_max": max(drains) if drains else None,
        "forced_exit_seconds_max": max(forced) if forced else None,
        "readyz_flip_ms_median": statistics.median(flips) if flips else None,
        "readyz_flip_ms_max": max(flips) if flips else None,
        "cycles": args.cycles,
        "cycles_completed": len(results),  # the two measured cycles above included
        "events": dict(sorted(Counter(r.event for r in results).items())),
        "leftover_processes": sum(len(r.leftover) for r in results),
        "failures": failures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--drain-interviews", type=int, default=4)
    parser.add_argument("--budget-minutes", type=float, default=240.0, help="start no cycle after this")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "lifecycle.json")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-lifecycle-"))
    os.environ.setdefault("MAX_INTERVIEWS_PER_WORKER", "4")
    started_at = time.monotonic()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a SIGTERM unwinds through the teardown too
    rig, started = build_rig(workdir)
    try:
        summary = asyncio.run(bench(args, rig))
    finally:
        for process in reversed(started):
            pgid = process.pgid
            process.stop(timeout=15)
            assert not group_alive(pgid), f"{process.name} survived"
    summary["wall_seconds"] = round(time.monotonic() - started_at, 1)
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if not summary["failures"] and summary["leftover_processes"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
