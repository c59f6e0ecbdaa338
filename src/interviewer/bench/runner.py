"""`interviewer bench`: many simulated candidates against a real stack, one JSON line per session.

Each session: sign in (Auth emulator), POST /v1/interviews (round-robin over the apis), join the room with the
token, hear the greeting, answer (`--answers`), hear each reply, leave. Sessions arrive at `--arrival-rate`
(Poisson or fixed gaps), at most `--concurrency` run at once (an arrival waits for a slot; the wait is
recorded), each bounded by `--session-timeout`, the whole run by `--max-minutes`.

Scenarios (adversarial timing, `--scenario`): see session.py.

Per session (JSON line): audio startup ok (an audible agent frame within `--audio-bound` s of joining),
dispatch (join -> agent participant) and greeting (join -> first audible frame) latency, reply latencies,
the agent participants seen (0 = missed dispatch, >1 = duplicate) and the jobs livekit assigned for the
room, the node that hosted the room and the worker that ran its job (read from the nodes' logs), tool
calls that took effect before the Greeting Guard opened and guard refusals (from the store), the api's
busy answers and errors. The summary adds 95% intervals (Wilson for rates, order statistics for
percentiles), CPU and memory of the agent workers per running interview, and the processes left after
the run. Plots: latency CDFs, success over time, CPU and memory per interview.

With `--impair-*` the candidates run in a child process inside netimpair's namespace (driver.py): their
signalling and media cross the lossy, delayed bridge; sign-in and the api request (control plane) stay on
loopback.

With `--fault` (`--cluster` only) one part of the stack is broken `--fault-at` seconds into the run (a worker
killed, a livekit node or Postgres restarted) and each session is classed by what it lived through
(faults.py).

This module is the entry (arguments, the run's order of work, the files written); the parts: session.py
(one session), driver.py (the candidates' process), target.py (the stack), schedule.py (arrivals,
concurrency, progress), attribution.py (node, worker, store), resources.py (CPU, memory, orphans),
faults.py, summary.py and plots.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from interviewer.bench.attribution import attribute, from_store
from interviewer.bench.driver import DRIVER_MODULE, DriverProcess
from interviewer.bench.faults import FAULTS, Fault, print_fault, settle, summarise_fault
from interviewer.bench.plots import plot
from interviewer.bench.resources import ResourceSampler, orphans
from interviewer.bench.schedule import Progress, schedule_sessions
from interviewer.bench.session import ANSWERS, SCENARIOS, run_session
from interviewer.bench.signals import interrupt_on_sigterm
from interviewer.bench.summary import print_summary, summarise
from interviewer.bench.target import bench_target, is_impaired


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=4, help="sessions running at once, at most")
    parser.add_argument("--arrival-rate", type=float, default=0.0, help="sessions/s (0: all at once)")
    parser.add_argument("--arrival", choices=("poisson", "fixed"), default="poisson")
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, default=["candidate_first"])
    parser.add_argument("--answers", type=int, default=1, choices=range(0, len(ANSWERS) + 1))
    parser.add_argument("--role", default="backend-engineer")
    parser.add_argument(
        "--end",
        choices=("api", "leave"),
        default="api",
        help="after its script the candidate leaves and presses End (api: the agent scores the interview and "
        "frees its slot at once) or only leaves (leave: the agent waits the rejoin grace first)",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--api", nargs="+", metavar="URL", help="a running stack's api(s)")
    where.add_argument(
        "--up", action="store_true", help="bring up one node, one worker (like `interviewer up`)"
    )
    where.add_argument(
        "--cluster", action="store_true", help="bring up two nodes, two workers, Redis, Postgres"
    )
    parser.add_argument("--emulator", help="Auth emulator host:port (with --api)")
    parser.add_argument("--database", help="the stack's DATABASE_URL (with --api: tool calls, guard)")
    parser.add_argument("--livekit-log", nargs="*", default=[], type=Path, help="node logs (with --api)")
    parser.add_argument("--worker-pid", nargs="*", default=[], type=int, help="worker pids (with --api)")
    parser.add_argument("--audio-bound", type=float, default=30.0, help="greeting must be heard within (s)")
    parser.add_argument("--turn-timeout", type=float, default=60.0)
    parser.add_argument("--session-timeout", type=float, default=180.0)
    parser.add_argument("--max-minutes", type=float, default=120.0, help="the whole run, at most")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--label", default="bench")
    parser.add_argument("--impair-loss", type=float, help="candidates behind netimpair: loss per frame")
    parser.add_argument("--impair-delay-ms", type=float, default=0.0)
    parser.add_argument("--impair-jitter-ms", type=float, default=0.0)
    parser.add_argument("--impair-subnet", default="10.77.0", help="a.b.c: root side .1, candidates .2")
    parser.add_argument("--worker-env", nargs="*", default=[], metavar="K=V", help="extra env for workers")
    parser.add_argument("--fault", choices=FAULTS, help="break one part of the --cluster stack mid-run")
    parser.add_argument("--fault-at", type=float, default=30.0, help="seconds into the run")
    parser.add_argument("--fault-down", type=float, default=5.0, help="restart faults: seconds down")


def _validate(args: argparse.Namespace) -> str | None:
    if args.sessions < 1 or args.concurrency < 1:
        return "--sessions and --concurrency must be at least 1"
    if args.api and not args.emulator:
        return "--api needs --emulator host:port"
    if args.fault and not args.cluster:
        return "--fault needs --cluster (a second worker, a second node, Postgres: the parts it breaks)"
    if args.fault_at < 0 or args.fault_down < 0:
        return "--fault-at and --fault-down must not be negative"
    if is_impaired(args) and args.api:
        return (
            "--impair-* needs a stack it brings up itself (--up or --cluster): livekit must listen on "
            "the veth's address"
        )
    return None


def main(args: argparse.Namespace) -> int:
    problem = _validate(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    interrupt_on_sigterm()
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        print("\ninterrupted: everything the bench started was stopped and removed", file=sys.stderr)
        return 130


async def _main(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    jsonl = args.out / f"{args.label}.sessions.jsonl"
    summary_path = args.out / f"{args.label}.summary.json"
    plot_path = args.out / f"{args.label}.png"
    jsonl.write_text("")
    started = time.time()
    extra: dict[str, Any] = {
        "label": args.label,
        "args": {k: str(v) for k, v in vars(args).items() if k != "func"},
    }

    def sink(record: dict[str, Any]) -> None:
        with jsonl.open("a") as out:
            out.write(json.dumps(record) + "\n")

    with bench_target(args) as (target, stack_groups, finish):
        progress = Progress(args.sessions)
        driver: DriverProcess | None = None
        if target.livekit_host is not None:
            driver = DriverProcess(finish["exec_argv"]([sys.executable, "-m", DRIVER_MODULE]))
            await driver.start()
        running = ResourceSampler(target.worker_pids, lambda: progress.running)
        fault: Fault | None = None
        if args.fault and target.stack is not None:
            fault = Fault(target.stack, args.fault, args.fault_at, args.fault_down)
        try:
            with running:
                run_one = driver.run if driver else run_session
                if fault is not None:
                    fault.start()  # the clock of --fault-at starts with the first arrival
                try:
                    records = await schedule_sessions(args, target, sink, run_one, progress)
                finally:
                    if fault is not None:
                        await fault.finish()  # a restarted part is back before the store is read
        finally:
            if driver is not None:
                await driver.close()
        attribute(records, target)
        if fault is not None and target.database_url:
            # Interviews whose candidate just left are still closing: wait for them so `live` means stuck.
            extra["settle_s"] = await asyncio.to_thread(settle, records, target.database_url)
        if target.database_url:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(from_store, records, target.database_url)
        extra["resources"] = running.per_interview()
        extra["samples"] = running.samples
        extra["wall_s"] = time.time() - started
        extra["impairment"] = finish.get("impairment")
        if fault is not None:
            extra["fault"] = summarise_fault(records, fault.record, args.answers)
    # The stack (and the namespace) are stopped now: what is left is an orphan.
    extra["orphans_after_run"] = orphans(stack_groups)
    extra["stack_survivors"] = finish.get("survivors", [])
    samples = extra.pop("samples")
    extra["resource_samples"] = samples  # to plot again later (t, interviews running, CPU s, PSS MB)
    with jsonl.open("w") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    summary = summarise(records, extra)
    summary_path.write_text(json.dumps(summary, indent=2))
    plot(records, samples, plot_path, f"interviewer bench {args.label}: {len(records)} sessions")
    print_summary(summary, jsonl, summary_path, plot_path)
    print_fault(summary.get("fault"))
    return 0 if not summary["orphans_after_run"] and not summary["stack_survivors"] else 1


if __name__ == "__main__":
    print("use `interviewer bench`", file=sys.stderr)
    sys.exit(2)
