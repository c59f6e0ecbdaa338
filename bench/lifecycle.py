"""Lifecycle benchmark on the real stack: drain time, orphan-free time after SIGKILL, leftovers over N cycles.

    uv run python bench/lifecycle.py [--cycles 200] [--drain-interviews 4]
    # prints a summary, writes bench/results/lifecycle.json

Starts its own livekit-server, Firebase Auth emulator and api (each in its own process group, on loopback),
then runs the cycles of tests/fixtures/lifecycle.py (a fresh worker per cycle; SIGTERM, SIGINT, SIGKILL,
job crash, livekit-server restart in rotation, 1-3 live interviews each), plus:
- drain time with N live interviews: SIGTERM → worker exited, every report stored and room deleted;
- time to orphan-free after SIGKILL of the worker parent (3 live interviews): parent reaped → no process of
  its group/session left.
A cycle costs ~50 s on a 2-core machine, so 200 cycles take about 3 hours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
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
    started.append(livekit.start())
    wait_livekit(livekit, livekit_config, timeout=30)
    emulator, emulator_config = build_auth_emulator(workdir / "firebase", project_id="demo-interviewer")
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
            failures.append(f"{event}/{interviews}: {error}")
            print(f"  FAILED {event} x{interviews}: {error}", flush=True)
            return None
        results.append(result)
        print(
            f"  {event:15} x{interviews} drain={result.drain_s} flip_ms={result.readyz_flip_ms} "
            f"orphan_free={result.orphan_free_s:.3f}s leftover={len(result.leftover)} "
            f"took={result.seconds:.1f}s",
            flush=True,
        )
        return result

    print(f"drain with {args.drain_interviews} live interviews:", flush=True)
    drain = await cycle("sigterm", args.drain_interviews)
    print("SIGKILL of the worker parent with 3 live interviews:", flush=True)
    killed = await cycle("sigkill", 3)
    print(f"{args.cycles} cycles:", flush=True)
    for n in range(args.cycles):
        await cycle(event_for(n), interviews_for(n))
    kills = [r.orphan_free_s for r in results if r.event == "sigkill" and r.orphan_free_s is not None]
    flips = [r.readyz_flip_ms for r in results if r.readyz_flip_ms is not None]
    return {
        "drain_seconds_with_n_interviews": drain and drain.drain_s,
        "drain_interviews": args.drain_interviews,
        "orphan_free_seconds_after_sigkill": killed and killed.orphan_free_s,
        "orphan_free_after_sigkill_max": max(kills) if kills else None,
        "readyz_flip_ms_median": statistics.median(flips) if flips else None,
        "readyz_flip_ms_max": max(flips) if flips else None,
        "cycles": args.cycles,
        "cycles_completed": len(results),
        "leftover_processes": sum(len(r.leftover) for r in results),
        "failures": failures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--drain-interviews", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "lifecycle.json")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-lifecycle-"))
    os.environ.setdefault("MAX_INTERVIEWS_PER_WORKER", "4")
    started_at = time.monotonic()
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
