"""When sessions run: arrivals at `--arrival-rate` (Poisson or fixed gaps), at most `--concurrency` at once
(an arrival waits for a slot; the wait is recorded as `queued_s`), each bounded by `--session-timeout`,
the whole run by `--max-minutes`; and the progress line on stderr while they do.

Per session this process does the control plane (sign-in, POST /v1/interviews round-robin over the apis,
retrying busy answers) and hands the room part to `run_one` (session.py here, or the driver).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from livekit import api as lkapi

from interviewer.bench.candidate import (
    InterviewersBusy,
    end_interview,
    sign_in_anonymously,
    start_interview,
)
from interviewer.bench.target import Target

SessionRunner = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class Progress:
    """Counts for the one-line progress bar; `running` is also what the resource sampler divides by."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.ok, self.running, self.started = total, 0, 0, 0, time.monotonic()

    def show(self, final: bool = False) -> None:
        width = 30
        filled = int(width * self.done / max(1, self.total))
        elapsed = time.monotonic() - self.started
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} done, "
            f"{self.running} running, "
            f"audio ok {self.ok}/{self.done}, {elapsed:.0f}s"
        )
        print(line, end="\n" if final else "", file=sys.stderr, flush=True)


def observer_token(target: Target, room: str, index: int) -> str | None:
    """A token to join `room` that carries no agent dispatch (observer_first); None without livekit keys."""
    if not target.livekit_key or not target.livekit_secret:
        return None
    grants = lkapi.VideoGrants(room_join=True, room=room, can_publish=False, can_subscribe=True)
    token = (
        lkapi.AccessToken(target.livekit_key, target.livekit_secret)
        .with_identity(f"observer-{index}")
        .with_ttl(timedelta(minutes=15))
        .with_grants(grants)
    )
    return token.to_jwt()


def arrival_gaps(args: argparse.Namespace, rng: random.Random) -> Iterator[float]:
    """Seconds to wait before each arrival: none at rate 0, exponential (Poisson) or fixed otherwise."""
    for _ in range(args.sessions):
        if not args.arrival_rate:
            yield 0.0
        elif args.arrival == "poisson":
            yield rng.expovariate(args.arrival_rate)
        else:
            yield 1.0 / args.arrival_rate


async def schedule_sessions(
    args: argparse.Namespace,
    target: Target,
    sink: Callable[[dict[str, Any]], None],
    run_one: SessionRunner,
    progress: Progress,
) -> list[dict[str, Any]]:
    """Run every session; each record goes to `sink` as it ends. Returns the records by index."""
    slots = asyncio.Semaphore(args.concurrency)
    rng = random.Random(args.seed)
    records: list[dict[str, Any]] = []
    run_deadline = time.monotonic() + args.max_minutes * 60

    async def one(index: int, arrived: float) -> None:
        scenario = args.scenario[index % len(args.scenario)]
        record: dict[str, Any] = {"index": index, "scenario": scenario, "arrived_at": arrived, "busy": 0}
        async with slots:
            progress.running += 1
            record["started_at"] = time.time()
            record["queued_s"] = record["started_at"] - arrived
            try:
                api_url = target.api_urls[index % len(target.api_urls)]
                record["api"] = api_url
                uid, id_token = await asyncio.to_thread(sign_in_anonymously, target.emulator_host)
                session_deadline = time.monotonic() + args.session_timeout
                while True:
                    asked = time.time()
                    try:
                        interview = await asyncio.to_thread(
                            start_interview, api_url, id_token, args.role, duration_minutes=5, uid=uid
                        )
                        record["api_s"] = time.time() - asked
                        break
                    except InterviewersBusy as busy:
                        record["busy"] += 1
                        wait = min(busy.retry_after, 5.0)
                        if time.monotonic() + wait > run_deadline:
                            # Still queued for a slot when the run ends: the run's end, not the fleet's
                            # failure (the busy answers are counted all the same).
                            record["cut_by_run_end"] = True
                            raise
                        if time.monotonic() + wait > session_deadline:
                            raise
                        await asyncio.sleep(wait)  # the api said when to come back
                if target.livekit_host:
                    # Impaired runs: the candidates must reach livekit across the bridge, not on loopback.
                    interview.livekit_url = re.sub(
                        r"//[^:/]+", f"//{target.livekit_host}", interview.livekit_url, count=1
                    )
                record.update(interview_id=interview.interview_id, room=interview.room)
                spec = {
                    "index": index,
                    "scenario": scenario,
                    "interview": asdict(interview),
                    "api_url": api_url,
                    "observer_token": observer_token(target, interview.room, index)
                    if scenario == "observer_first"
                    else None,
                    "audio_bound": args.audio_bound,
                    "answers": args.answers,
                    "turn_timeout": args.turn_timeout,
                    "session_timeout": max(1.0, session_deadline - time.monotonic()),
                }
                try:
                    record.update(await asyncio.wait_for(run_one(spec), spec["session_timeout"] + 5))
                except TimeoutError:
                    record["error"] = "session timed out"
                if args.end == "api":
                    # Here, not in the session: the api is on this side of an impaired network.
                    try:
                        await asyncio.to_thread(end_interview, api_url, interview)
                    except Exception as error:
                        record["end_error"] = f"{type(error).__name__}: {error}"
            except Exception as error:  # any failure is this session's result, not the run's end
                record["error"] = f"{type(error).__name__}: {error}"
            except asyncio.CancelledError:
                # The run's own deadline cut it short: kept, and counted apart from the sessions that ran.
                record["cut_by_run_end"] = True
                record["ended_at"] = time.time()
                records.append(record)
                sink(record)
                raise
            finally:
                progress.running -= 1
        record.setdefault("audio_ok", False)
        record["ended_at"] = time.time()
        records.append(record)
        sink(record)
        progress.done += 1
        progress.ok += bool(record["audio_ok"])
        progress.show()

    tasks = []
    for index, gap in enumerate(arrival_gaps(args, rng)):
        if time.monotonic() + gap > run_deadline:
            break
        if gap:
            await asyncio.sleep(gap)  # the arrival process itself
        tasks.append(asyncio.create_task(one(index, time.time())))
    remaining = max(1.0, run_deadline - time.monotonic())
    _done, pending = await asyncio.wait(tasks, timeout=remaining) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    progress.show(final=True)
    return sorted(records, key=lambda r: r["index"])
