"""`interviewer bench --cluster --fault`: break one part of the stack while sessions run, then say what each
live and each new interview lived through.

The faults (`--fault-at` seconds into the run; the restarts stay down `--fault-down` seconds):
- kill-worker: SIGKILL the agent worker running the most interviews (worker-1 on a tie), never restarted.
  Only the parent is killed, as a crash would: its job processes go through the kernel's parent-death chain,
  their leases lapse, and the other worker (or the recovery sweep) must take the interviews over.
- restart-livekit: SIGTERM livekit-1, wait for it to exit, wait, start it again with the same config (same
  ports, empty memory; the rooms' records in the shared Redis outlive it).
- restart-postgres: a fast shutdown (SIGINT to the postmaster, which is what `pg_ctl stop -m fast` sends),
  wait, start the same data directory again.

Restarts go through the supervisor's own process handles, from the event loop's (main) thread: the
parent-death signal armed at fork belongs to the forking thread, so a part restarted from a pool thread would
be killed when that thread ends; and the supervisor stops, and checks, the restarted process with the rest.

Each session is then classed (`fault_class`): live during the fault (running when it began), new during the
fault (began between its start and 30 s after its end: what arrived while the part was missing or catching
up), or unaffected; "began" is when the session asked the api, not when it joined the bench's own queue,
which the stack never sees. Per class the summary gives audio startup, how the interview ended according to
the store (`outcome`), take-overs and errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from interviewer.agent.recovery import SWEEPER_JOB_ID
from interviewer.bench.stack import BenchStack
from interviewer.bench.stats import rate

FAULTS = ("kill-worker", "restart-livekit", "restart-postgres")
LIVE, NEW, UNAFFECTED = "live during fault", "new during fault", "unaffected"
CLASSES = (LIVE, NEW, UNAFFECTED)
# Sessions that begin this long after the part is back still meet its after-effects (a worker re-registering,
# pooled connections re-opened, leases lapsing and taken over): they count as new during the fault.
NEW_AFTER_S = 30.0
# livekit-server drains on SIGTERM; past this it is SIGKILLed (recorded as `forced`).
LIVEKIT_STOP_TIMEOUT_S = 20.0
POSTGRES_STOP_TIMEOUT_S = 20.0
READY_TIMEOUT_S = 60.0
# After the last session, how long to wait for interviews still `live` in the store to end: an agent closes
# (goodbye, report) a moment after its candidate left, and an interview nobody took over is finished as cut
# short only TAKEOVER_TIMEOUT_SECONDS (60 by default) after its lease lapsed, by the next sweep.
SETTLE_S = 75.0
API_5XX = re.compile(r"POST /v1/interviews: 5\d\d")


@dataclass
class FaultRecord:
    """What was done and when (wall clock, as the sessions' timestamps)."""

    kind: str
    at_s: float  # planned: seconds into the run
    down_s: float  # planned: how long a restarted part stays down
    target: str | None = None  # the process broken
    started_at: float | None = None  # the signal was sent
    ended_at: float | None = None  # the part answers again (kill-worker: the kill itself; it stays dead)
    stopped_s: float | None = None  # signal -> the process exited
    forced: bool = False  # it did not exit on its own signal and was SIGKILLed
    ready_s: float | None = None  # start -> the part answers again
    jobs_on_target: int | None = None  # kill-worker: interviews the worker ran when killed
    error: str | None = None  # the fault could not be performed (or the part did not come back)


# -- classification (pure) --------------------------------------------------------------------------------


def fault_class(record: dict[str, Any], start: float, end: float, new_after: float = NEW_AFTER_S) -> str:
    """LIVE if the session was running when the fault began, NEW if it began between the fault's start and
    `new_after` seconds after its end, else UNAFFECTED."""
    began, ended = record.get("started_at"), record.get("ended_at")
    if began is None:
        return UNAFFECTED  # never got a slot: the fault had nothing to act on
    if began <= start and (ended is None or ended > start):
        return LIVE
    if start < began <= end + new_after:
        return NEW
    return UNAFFECTED


def completed(record: dict[str, Any], answers: int) -> bool:
    """The candidate got through its script: greeted, every answer replied to, no error."""
    return (
        bool(record.get("greeted"))
        and len(record.get("replies_s", [])) >= answers
        and not record.get("error")
    )


def outcome(record: dict[str, Any], answers: int) -> str:
    """How the interview ended, by the store:
    - `finished`: the candidate got through its script, and the agent or the candidate's End closed it;
    - `cut short`: ended, but the candidate did not get through (no greeting, a reply missing, an error), or
      the recovery sweep finished it from what was saved;
    - `live` (the store still says so), `never started` (no agent ever claimed it), `no interview` (the api
      gave none), or `unknown` (the store was not read)."""
    if not record.get("interview_id"):
        return "no interview"
    status = record.get("status")
    if status is None:
        return "unknown"
    if status == "live":
        return "live"
    if status == "created":
        return "never started"
    if str(record.get("end_reason") or "").startswith("cut short"):
        return "cut short"  # finished by the recovery sweep from what was saved: nobody could resume it
    # `abandoned` is the candidate pressing End (`--end api`) once through its script.
    ended_well = status in ("finished", "abandoned")
    return "finished" if ended_well and completed(record, answers) else "cut short"


def took_over(record: dict[str, Any]) -> bool:
    """More than one agent seen in the room over time, or the store's lease taken over by another job. The
    recovery sweep's own claim (it takes the lease to finish an interview nobody could resume) is not one."""
    takeovers = record.get("lease_takeovers") or 0
    if record.get("lease_job_id") == SWEEPER_JOB_ID:
        takeovers -= 1
    return len(record.get("agents_seen", [])) > 1 or takeovers > 0


def summarise_class(records: Sequence[dict[str, Any]], answers: int) -> dict[str, Any]:
    """One class's figures: audio startup, outcomes, take-overs, errors (api 5xx, busy answers)."""
    n = len(records)
    errors = [str(r["error"]) for r in records if r.get("error")]
    return {
        "sessions": n,
        "audio_startup": rate(sum(1 for r in records if r.get("audio_ok")), n),
        "outcome": dict(Counter(outcome(r, answers) for r in records).most_common()),
        "end_reasons": dict(
            Counter(str(r.get("end_reason")) for r in records if r.get("status")).most_common()
        ),
        "took_over": sum(1 for r in records if took_over(r)),
        "errors": len(errors),
        "api_5xx": sum(1 for e in errors if API_5XX.search(e)),
        "busy_answers": sum(int(r.get("busy", 0)) for r in records),
        "sessions_with_busy": sum(1 for r in records if r.get("busy")),
        "error_kinds": dict(Counter(e.split(":")[0] for e in errors).most_common()),
    }


def summarise_fault(records: list[dict[str, Any]], fault: FaultRecord, answers: int) -> dict[str, Any]:
    """Tag each record with its class, outcome and take-over; the fault and the per-class figures."""
    out: dict[str, Any] = {**asdict(fault)}
    if fault.started_at is None or fault.ended_at is None:
        out["performed"] = False  # the run ended first, or the fault failed before its signal
        return out
    out["performed"] = True
    out["new_after_s"] = NEW_AFTER_S
    for record in records:
        record["fault_class"] = fault_class(record, fault.started_at, fault.ended_at)
        record["outcome"] = outcome(record, answers)
        record["took_over"] = took_over(record)
    out["by_class"] = {
        c: summarise_class([r for r in records if r["fault_class"] == c], answers) for c in CLASSES
    }
    return out


def print_fault(block: dict[str, Any] | None) -> None:
    if not block:
        return
    if not block.get("performed"):
        print(f"fault {block['kind']}: not performed ({block.get('error') or 'the run ended first'})")
        return

    def clock(t: float) -> str:
        return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S.%f")[:-5]

    forced = ", forced" if block["forced"] else ""
    ready = "" if block["ready_s"] is None else f", ready {block['ready_s']:.1f} s after start"
    error = f"; {block['error']}" if block["error"] else ""
    print(
        f"fault {block['kind']} on {block['target']}: {clock(block['started_at'])} -> "
        f"{clock(block['ended_at'])} UTC ({block['ended_at'] - block['started_at']:.1f} s; stopped in "
        f"{block['stopped_s'] or 0:.1f} s{forced}{ready}){error}"
    )
    for name, c in block["by_class"].items():
        audio = c["audio_startup"]
        print(
            f"  {name:18} n={c['sessions']:<3} audio ok {audio['k']}/{audio['n']}, {c['outcome']}, "
            f"took over {c['took_over']}, errors {c['errors']} (api 5xx {c['api_5xx']}), "
            f"busy answers {c['busy_answers']}"
        )


# -- performing the fault ----------------------------------------------------------------------------------


async def _jobs(url: str) -> int:
    """Interviews a worker runs now, by its /healthz; -1 if it does not answer."""
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            return len((await client.get(f"{url}/healthz")).json().get("jobs", []))
    except (httpx.HTTPError, ValueError):
        return -1


async def _wait_exit(stack: BenchStack, name: str, timeout: float) -> bool:
    """Poll (reaping) until the process exits; False if it has not within `timeout`."""
    process = stack.processes[name]
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _kill_worker(stack: BenchStack, fault: FaultRecord) -> None:
    names = sorted(stack.worker_health)
    jobs = await asyncio.gather(*(_jobs(stack.worker_health[n]) for n in names))
    # The busiest worker; `max` keeps the first of equals, worker-1 by name.
    victim, count = max(zip(names, jobs, strict=True), key=lambda pair: pair[1])
    fault.target, fault.jobs_on_target = victim, count
    process = stack.processes[victim]
    fault.started_at = time.time()
    os.kill(process.pid, signal.SIGKILL)
    fault.ended_at = fault.started_at  # not restarted: what follows is the rest of the fleet coping
    if not await _wait_exit(stack, victim, 10):
        fault.error = f"{victim} still running 10 s after SIGKILL"
    fault.stopped_s = time.time() - fault.started_at


async def _restart(stack: BenchStack, name: str, fault: FaultRecord, stop_timeout: float) -> None:
    """Stop `name` with its own stop signal (SIGKILL after `stop_timeout`), stay down, start it again and
    wait until it answers."""
    process = stack.processes[name]
    fault.target = name
    fault.started_at = time.time()
    # `stop` blocks while it waits for the whole group: a thread, so the sessions keep running meanwhile.
    code = await asyncio.to_thread(process.stop, stop_timeout)
    fault.stopped_s = time.time() - fault.started_at
    fault.forced = code == -signal.SIGKILL
    # Down for `down_s` once it has exited: a node that drains for a while before it exits (livekit-server
    # waits for its participants on SIGTERM) is missing for that long on top.
    await asyncio.sleep(fault.down_s)
    started = time.time()
    process.start()  # on this (the main) thread: see the module's docstring
    stack.pgids.append(process.pgid)  # the orphan check looks at the new group too
    try:
        await asyncio.to_thread(_wait_ready, stack, name)
    except Exception as error:  # it stays down: say so, the sessions' records show the rest
        fault.error = f"{name} did not come back: {type(error).__name__}: {str(error)[:300]}"
    fault.ended_at = time.time()
    fault.ready_s = fault.ended_at - started


def _wait_ready(stack: BenchStack, name: str) -> None:
    process = stack.processes[name]
    if name == "postgres":
        import psycopg

        from interviewer.datastores import DATABASE, LOOPBACK, POSTGRES_USER

        assert stack.postgres is not None
        port = stack.postgres.port

        def accepts() -> bool:
            try:
                with psycopg.connect(host=LOOPBACK, port=port, user=POSTGRES_USER, dbname=DATABASE):
                    return True
            except psycopg.OperationalError:  # refused, or "the database system is starting up"
                return False

        process.wait_until(accepts, READY_TIMEOUT_S, "accepting connections")
        return
    from interviewer.livekit_server import wait_ready as wait_livekit

    node = next(n for n in stack.nodes if n.name == name)
    wait_livekit(process, node.config, timeout=READY_TIMEOUT_S)


async def perform(stack: BenchStack, fault: FaultRecord) -> None:
    """Break the part now; any failure goes into the record, not up."""
    print(f"\nfault: {fault.kind} now", file=sys.stderr, flush=True)
    try:
        if fault.kind == "kill-worker":
            await _kill_worker(stack, fault)
        elif fault.kind == "restart-livekit":
            await _restart(stack, "livekit-1", fault, LIVEKIT_STOP_TIMEOUT_S)
        elif fault.kind == "restart-postgres":
            await _restart(stack, "postgres", fault, POSTGRES_STOP_TIMEOUT_S)
        else:
            raise ValueError(f"unknown fault {fault.kind}")
    except Exception as error:  # the run goes on and reports it
        fault.error = f"{type(error).__name__}: {error}"
        if fault.started_at is not None and fault.ended_at is None:
            fault.ended_at = time.time()  # broken, not repaired: the classes still need an end
    print(f"fault: {fault.kind} done ({fault.error or 'ok'})", file=sys.stderr, flush=True)


class Fault:
    """The fault as a task beside the sessions: started with them, awaited (never cut off halfway: a part
    left down would spoil the store read and the stop) or cancelled if the run ends before it is due."""

    def __init__(self, stack: BenchStack, kind: str, at_s: float, down_s: float) -> None:
        self.stack = stack
        self.record = FaultRecord(kind=kind, at_s=at_s, down_s=down_s)
        self._task: asyncio.Task[None] | None = None
        self._due = False  # past its time: from here on it runs to the end

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(time.monotonic()))

    async def _run(self, run_started: float) -> None:
        await asyncio.sleep(max(0.0, run_started + self.record.at_s - time.monotonic()))
        self._due = True
        await perform(self.stack, self.record)

    async def finish(self) -> None:
        if self._task is None:
            return
        if not self._due:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def settle(records: list[dict[str, Any]], database_url: str, timeout: float = SETTLE_S) -> float:
    """Wait (at most `timeout`) until none of the sessions' interviews is `live` in the store; the seconds
    waited. A store that does not answer ends the wait: the read afterwards will say what it can."""
    from interviewer.store import Store
    from interviewer.store.models import InterviewStatus

    ids = [r["interview_id"] for r in records if r.get("interview_id")]
    started = time.monotonic()
    store = Store(database_url)
    try:
        while time.monotonic() - started < timeout:
            try:
                live = [i for i in ids if (x := store.get_interview(i)) and x.status is InterviewStatus.live]
            except Exception:
                break
            if not live:
                break
            time.sleep(1.0)
    finally:
        store.close()
    return time.monotonic() - started
