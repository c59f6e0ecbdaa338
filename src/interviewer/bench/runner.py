"""`interviewer bench`: many simulated candidates against a real stack, one JSON line per session.

Each session: sign in (Auth emulator), POST /v1/interviews (round-robin over the apis), join the room with the
token, hear the greeting, answer (`--answers`), hear each reply, leave. Sessions arrive at `--arrival-rate`
(Poisson or fixed gaps), at most `--concurrency` run at once (an arrival waits for a slot; the wait is
recorded), each bounded by `--session-timeout`, the whole run by `--max-minutes`.

Scenarios (adversarial timing, `--scenario`, several may be mixed round-robin):
- candidate_first: join and publish the microphone at once (the app's order);
- agent_first: join without a microphone, publish only once the agent is in the room;
- observer_first: another participant (no dispatch in its token) joins the room before the candidate;
- talk_over: the candidate starts answering as soon as the greeting is audible;
- leave_rejoin: leave as soon as the greeting is audible, rejoin with the same token, then answer.

Per session (JSON line): audio startup ok (an audible agent frame within `--audio-bound` s of joining),
dispatch (join -> agent participant) and greeting (join -> first audible frame) latency, reply latencies,
the agent participants seen (0 = missed dispatch, >1 = duplicate) and the jobs livekit assigned for the
room, the node that hosted the room and the worker that ran its job (read from the nodes' logs), tool
calls that took effect before the Greeting Guard opened and guard refusals (from the store), the api's
busy answers and errors. The summary adds 95% intervals (Wilson for rates, order statistics for
percentiles), CPU and memory of the agent workers per running interview, and the processes left after
the run. Plots: latency CDFs, success over time, CPU and memory per interview.

With `--impair-*` the candidates run in a child process inside netimpair's namespace: their signalling and
media cross the lossy, delayed bridge; sign-in and the api request (control plane) stay on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from livekit import api as lkapi
from livekit import rtc

from interviewer.bench.candidate import (
    Candidate,
    Interview,
    InterviewersBusy,
    sign_in_anonymously,
    start_interview,
)
from interviewer.bench.stats import describe, rate
from interviewer.procs import descendants, process_table

SCENARIOS = ("candidate_first", "agent_first", "observer_first", "talk_over", "leave_rejoin")
ANSWERS = (
    "Yes, I am ready. Thank you for having me.",
    "I am a backend engineer and I build payment services in Python.",
    "Let us stop here. Please end the interview.",
)
AGENT_KIND = rtc.ParticipantKind.PARTICIPANT_KIND_AGENT


# -- one session (in this process, or in the driver inside the namespace) ------------------------------------


async def _until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll a condition until true or the deadline; True if it came true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def run_session(spec: dict[str, Any]) -> dict[str, Any]:
    """Join, greet, answer, leave: what the candidate saw (the server-side columns come later)."""
    scenario: str = spec["scenario"]
    bound: float = spec["audio_bound"]
    interview = Interview(**spec["interview"])
    out: dict[str, Any] = {"agents_seen": [], "replies_s": [], "underruns": 0, "max_agents_at_once": 0}
    agents: set[str] = set()
    present: set[str] = set()  # agents in the room right now: two at once is a duplicate job running

    def watch(room: rtc.Room) -> None:
        def seen(participant: rtc.RemoteParticipant) -> None:
            if participant.kind == AGENT_KIND:
                agents.add(participant.identity)
                present.add(participant.identity)
                out["max_agents_at_once"] = max(out["max_agents_at_once"], len(present))

        def gone(participant: rtc.RemoteParticipant) -> None:
            present.discard(participant.identity)

        room.on("participant_connected", seen)
        room.on("participant_disconnected", gone)

    observer: rtc.Room | None = None
    candidate = Candidate(interview)
    watch(candidate.room)
    rejoined: Candidate | None = None
    try:
        if scenario == "observer_first":
            observer = rtc.Room()
            await observer.connect(interview.livekit_url, spec["observer_token"])
        await candidate.join(publish=scenario != "agent_first")
        for participant in candidate.room.remote_participants.values():
            if participant.kind == AGENT_KIND:
                agents.add(participant.identity)
                present.add(participant.identity)
                out["max_agents_at_once"] = max(out["max_agents_at_once"], len(present))
        timings = candidate.timings
        if scenario == "agent_first" and await _until(lambda: timings.agent_joined is not None, bound):
            await candidate.publish_microphone()
        heard = await _until(lambda: timings.first_agent_audio is not None, bound)
        talker = candidate
        if scenario == "talk_over" and heard:
            await candidate.say(ANSWERS[0])  # over the greeting
        elif scenario == "leave_rejoin" and heard:
            await candidate.leave()
            rejoined = Candidate(interview)
            watch(rejoined.room)
            left_at = time.time()
            await rejoined.join()
            out["rejoin_s"] = time.time() - left_at
            room = rejoined.room
            out["rejoin_agent_present"] = await _until(
                lambda: any(p.kind == AGENT_KIND for p in room.remote_participants.values()), bound
            )
            talker = rejoined
        out["greeted"] = heard and await talker.wait_agent_turn_done(spec["turn_timeout"])
        if out["greeted"]:
            for text in ANSWERS[: spec["answers"]]:
                answer = await talker.say(text)
                if not await talker.wait_agent_turn_done(spec["turn_timeout"]):
                    break
                reply = talker.timings.reply_to(answer)
                if reply is not None:
                    out["replies_s"].append(reply.seconds)
        out["underruns"] = candidate.timings.underruns + (rejoined.timings.underruns if rejoined else 0)
    except Exception as error:  # the session failed: say how, keep the rest of the run going
        out["error"] = f"{type(error).__name__}: {error}"
    finally:
        for member in (candidate, rejoined):
            if member is not None:
                with contextlib.suppress(Exception):
                    await member.leave()
        if observer is not None:
            with contextlib.suppress(Exception):
                await observer.disconnect()
    t = candidate.timings
    out.update(
        joined_at=t.joined,
        dispatch_s=t.dispatch_seconds,
        greeting_s=t.greeting_seconds,
        audio_ok=t.greeting_seconds is not None and t.greeting_seconds <= bound,
        agents_seen=sorted(agents),
    )
    return out


async def _driver() -> int:
    """`--driver`: run the session specs that arrive on stdin (one JSON line each), answer on stdout."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks: set[asyncio.Task[None]] = set()

    async def one(spec: dict[str, Any]) -> None:
        try:
            result = await asyncio.wait_for(run_session(spec), spec["session_timeout"])
        except TimeoutError:
            result = {"error": "session timed out"}
        print(json.dumps({"index": spec["index"], **result}), flush=True)

    while line := await reader.readline():
        task = asyncio.create_task(one(json.loads(line)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return 0


class DriverProcess:
    """The candidates' process inside the namespace, fed session specs over a pipe."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc: asyncio.subprocess.Process | None = None
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            with contextlib.suppress(ValueError):
                result = json.loads(line)
                future = self.waiting.pop(result.pop("index"), None)
                if future is not None and not future.done():
                    future.set_result(result)
        for future in self.waiting.values():
            if not future.done():
                future.set_result({"error": "the candidates' process exited"})

    async def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[spec["index"]] = future
        self.proc.stdin.write((json.dumps(spec) + "\n").encode())
        await self.proc.stdin.drain()
        return await future

    async def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 9)
            await self.proc.wait()
        if self._reader is not None:
            await self._reader


# -- the run -------------------------------------------------------------------------------------------------


@dataclass
class Target:
    api_urls: list[str]
    emulator_host: str
    database_url: str | None
    livekit_key: str | None
    livekit_secret: str | None
    node_logs: dict[str, Path] = field(default_factory=dict)  # node name -> livekit-server log
    node_workers: dict[str, str] = field(default_factory=dict)  # node name -> the worker registered on it
    worker_pids: list[int] = field(default_factory=list)
    livekit_host: str | None = None  # rewrite the api's livekit URL host to this (impaired runs)


class ResourceSampler:
    """Once a second: CPU seconds and PSS of the agent workers' process trees, and sessions running."""

    def __init__(self, roots: list[int], active: Callable[[], int]) -> None:
        self.roots, self.active = roots, active
        self.samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ticks = os.sysconf("SC_CLK_TCK")

    def _cpu_s(self, pid: int, children_too: bool) -> float:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        if children_too:
            ticks += int(fields[13]) + int(fields[14])  # reaped children (finished job processes)
        return ticks / self._ticks

    @staticmethod
    def _pss_mb(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def sample(self) -> dict[str, float]:
        cpu = pss = 0.0
        for root in self.roots:
            tree = descendants(root)
            cpu += sum(self._cpu_s(pid, pid == root) for pid in tree)
            pss += sum(self._pss_mb(pid) for pid in tree)
        return {"t": time.time(), "active": float(self.active()), "cpu_s": cpu, "pss_mb": pss}

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.sample())
            self._stop.wait(1.0)

    def __enter__(self) -> ResourceSampler:
        if self.roots:
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def per_interview(self) -> dict[str, Any]:
        idle = self.samples[0]["pss_mb"] if self.samples else None
        cpu_pct, mem = [], []
        for before, after in itertools.pairwise(self.samples):
            if after["active"] > 0 and after["t"] > before["t"]:
                used = 100 * (after["cpu_s"] - before["cpu_s"]) / (after["t"] - before["t"])
                cpu_pct.append(max(0.0, used) / after["active"])
                if idle is not None:
                    mem.append((after["pss_mb"] - idle) / after["active"])
        return {
            "idle_pss_mb": idle,
            "cpu_percent_per_interview": describe(cpu_pct, (0.5, 0.95)),
            "pss_mb_per_interview": describe(mem, (0.5, 0.95)),
        }


class Progress:
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


def _gaps(args: argparse.Namespace, rng: random.Random) -> Iterator[float]:
    for _ in range(args.sessions):
        if not args.arrival_rate:
            yield 0.0
        elif args.arrival == "poisson":
            yield rng.expovariate(args.arrival_rate)
        else:
            yield 1.0 / args.arrival_rate


async def drive(
    args: argparse.Namespace,
    target: Target,
    sink: Callable[[dict[str, Any]], None],
    runner: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
    progress: Progress,
) -> list[dict[str, Any]]:
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
                        if time.monotonic() + wait > min(session_deadline, run_deadline):
                            raise
                        await asyncio.sleep(wait)  # the api said when to come back
                if target.livekit_host:
                    interview.livekit_url = re.sub(
                        r"//[^:/]+", f"//{target.livekit_host}", interview.livekit_url, count=1
                    )
                record.update(interview_id=interview.interview_id, room=interview.room)
                spec = {
                    "index": index,
                    "scenario": scenario,
                    "interview": asdict(interview),
                    "observer_token": observer_token(target, interview.room, index)
                    if scenario == "observer_first"
                    else None,
                    "audio_bound": args.audio_bound,
                    "answers": args.answers,
                    "turn_timeout": args.turn_timeout,
                    "session_timeout": max(1.0, session_deadline - time.monotonic()),
                }
                try:
                    record.update(await asyncio.wait_for(runner(spec), spec["session_timeout"] + 5))
                except TimeoutError:
                    record["error"] = "session timed out"
            except Exception as error:  # any failure is this session's result, not the run's end
                record["error"] = f"{type(error).__name__}: {error}"
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
    for index, gap in enumerate(_gaps(args, rng)):
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


# -- reading the servers back --------------------------------------------------------------------------------


def _log_events(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return
    for line in text.splitlines():
        # time, level, logger, caller, message, {fields}: tab-separated (livekit-server's console format)
        parts = line.split("\t")
        if len(parts) < 6:
            continue
        with contextlib.suppress(ValueError):
            yield parts[4], json.loads(parts[5])


def attribute(records: list[dict[str, Any]], target: Target) -> None:
    """Node that hosted each room, jobs assigned for it and the workers that took them (livekit logs)."""
    worker_node: dict[str, str] = {}
    room_node: dict[str, str] = {}
    jobs: dict[str, dict[str, str]] = defaultdict(dict)  # room -> job id -> worker id
    for node, path in target.node_logs.items():
        for message, fields in _log_events(path):
            if message == "worker registered" and "workerID" in fields:
                worker_node[fields["workerID"]] = node
            elif message == "assigned job to worker" and "room" in fields:
                jobs[fields["room"]][fields.get("jobID", "?")] = fields.get("workerID", "?")
            elif message == "starting RTC session" and "room" in fields:
                room_node.setdefault(fields["room"], node)
    for record in records:
        room = record.get("room")
        if room is None or not target.node_logs:
            continue
        assigned = jobs.get(room, {})
        record["node"] = room_node.get(room)
        record["jobs_assigned"] = len(assigned)
        record["workers"] = sorted(
            {target.node_workers.get(worker_node.get(w, ""), w) for w in assigned.values()}
        )
        agents = [a.removeprefix("agent-") for a in record.get("agents_seen", [])]
        record["worker"] = next(
            (
                target.node_workers.get(worker_node.get(assigned[a], ""), assigned[a])
                for a in agents
                if a in assigned
            ),
            record["workers"][0] if record["workers"] else None,
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def from_store(records: list[dict[str, Any]], database_url: str) -> None:
    """Tool calls that took effect before the greeting had played (the guard opens after it), refusals."""
    from interviewer.store import Store

    store = Store(database_url)
    try:
        for record in records:
            interview_id = record.get("interview_id")
            if interview_id is None:
                continue
            turns = store.turns(interview_id)
            greeting_end = next((_aware(t.ended_at) for t in turns if t.speaker == "agent"), None)
            events = store.tool_events(interview_id)
            effective = [e for e in events if e.outcome == "ok"]
            record["tool_calls"] = len(effective)
            record["tool_calls_before_guard"] = sum(
                1 for e in effective if greeting_end is None or _aware(e.at) < greeting_end
            )
            record["guard_refusals"] = sum(1 for e in events if e.outcome == "refused")
            interview = store.get_interview(interview_id)
            if interview is not None:
                record["status"] = interview.status.value
                record["end_reason"] = interview.end_reason
    finally:
        store.close()


def orphans(roots: list[int]) -> list[dict[str, Any]]:
    """Processes still alive below us (the driver, candidates) or in the stack's process groups."""
    table = process_table()
    me = os.getpid()
    found = [pid for pid in descendants(me) if pid != me]
    found += [info.pid for info in table.values() if info.pgid in roots and info.alive and info.pid != me]
    out = []
    for pid in sorted(set(found)):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        out.append({"pid": pid, "cmd": cmd.strip()[:200]})
    return out


# -- summary and plots ---------------------------------------------------------------------------------------


def summarise(records: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    n = len(records)
    with_room = [r for r in records if r.get("room")]
    seen = [len(r.get("agents_seen", [])) for r in with_room]
    summary: dict[str, Any] = {
        "sessions": n,
        "errors": sum(1 for r in records if r.get("error")),
        "busy_answers": sum(r.get("busy", 0) for r in records),
        "audio_startup": rate(sum(1 for r in records if r.get("audio_ok")), n),
        "dispatch_s": describe([r["dispatch_s"] for r in records if r.get("dispatch_s") is not None]),
        "greeting_s": describe([r["greeting_s"] for r in records if r.get("greeting_s") is not None]),
        "reply_s": describe([s for r in records for s in r.get("replies_s", [])]),
        "api_s": describe([r["api_s"] for r in records if r.get("api_s") is not None]),
        "missed_dispatch": rate(sum(1 for s in seen if s == 0), len(with_room)),
        "duplicate_agents": rate(sum(1 for s in seen if s > 1), len(with_room)),
        "agents_at_once_over_1": rate(
            sum(1 for r in with_room if r.get("max_agents_at_once", 0) > 1), len(with_room)
        ),
        "duplicate_jobs": rate(sum(1 for r in with_room if r.get("jobs_assigned", 0) > 1), len(with_room)),
        "tool_calls_before_guard": sum(r.get("tool_calls_before_guard", 0) for r in records),
        "sessions_with_tool_call_before_guard": rate(
            sum(1 for r in records if r.get("tool_calls_before_guard", 0) > 0), len(with_room)
        ),
        "guard_refusals": sum(r.get("guard_refusals", 0) for r in records),
        "by_scenario": {
            s: rate(sum(1 for r in records if r["scenario"] == s and r.get("audio_ok")), c)
            for s, c in sorted(_count(r["scenario"] for r in records).items())
        },
        "by_node": dict(sorted(_count(str(r.get("node")) for r in with_room).items())),
        "by_worker": dict(sorted(_count(str(r.get("worker")) for r in with_room).items())),
        "error_kinds": dict(
            _count(str(r["error"]).split(":")[0] for r in records if r.get("error")).most_common()
        ),
    }
    summary.update(extra)
    return summary


def _count(items: Any) -> Any:
    from collections import Counter

    return Counter(items)


def plot(records: list[dict[str, Any]], samples: list[dict[str, float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    ax = axes[0][0]
    for key, label in (("dispatch_s", "dispatch"), ("greeting_s", "greeting"), ("replies_s", "reply")):
        values = sorted(
            v
            for r in records
            for v in (r.get(key) or [] if key == "replies_s" else [r.get(key)])
            if v is not None
        )
        if values:
            ax.step(
                values,
                [(i + 1) / len(values) for i in range(len(values))],
                where="post",
                label=f"{label} (n={len(values)})",
            )
    ax.set(xlabel="seconds", ylabel="fraction of sessions", title="latency CDFs")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right")
    ax.grid(alpha=0.3)

    ax = axes[0][1]
    if records:
        t0 = min(r["arrived_at"] for r in records)
        ordered = sorted(records, key=lambda r: r["arrived_at"])
        xs = [r["arrived_at"] - t0 for r in ordered]
        window = min(len(ordered), max(5, len(ordered) // 20))
        ok = [float(bool(r.get("audio_ok"))) for r in ordered]
        rolling = [
            sum(ok[max(0, i - window + 1) : i + 1]) / len(ok[max(0, i - window + 1) : i + 1])
            for i in range(len(ok))
        ]
        ax.plot(xs, rolling, label=f"audio startup ok (rolling {window})")
        ax.scatter(xs, ok, s=6, alpha=0.4, color="grey")
    ax.set(xlabel="arrival (s from start)", ylabel="success", title="success over time", ylim=(-0.05, 1.05))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left")
    ax.grid(alpha=0.3)

    t_cpu, cpu, t_mem, mem, active = [], [], [], [], []
    if samples:
        t0s = samples[0]["t"]
        idle = samples[0]["pss_mb"]
        for before, after in itertools.pairwise(samples):
            active.append((after["t"] - t0s, after["active"]))
            if after["active"] > 0:
                used = 100 * (after["cpu_s"] - before["cpu_s"]) / max(1e-6, after["t"] - before["t"])
                t_cpu.append(after["t"] - t0s)
                cpu.append(max(0.0, used) / after["active"])
                t_mem.append(after["t"] - t0s)
                mem.append((after["pss_mb"] - idle) / after["active"])
    ax = axes[1][0]
    ax.plot(t_cpu, cpu, label="workers' CPU % per running interview")
    if active:
        twin = ax.twinx()
        twin.plot([a[0] for a in active], [a[1] for a in active], color="grey", alpha=0.5, label="running")
        twin.set_ylabel("interviews running")
    ax.set(xlabel="seconds", ylabel="CPU % (of one core)", title="CPU per interview")
    ax.grid(alpha=0.3)
    ax = axes[1][1]
    ax.plot(t_mem, mem, color="tab:green")
    ax.set(xlabel="seconds", ylabel="MB PSS above idle", title="memory per interview")
    ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- entry ---------------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=4, help="sessions running at once, at most")
    parser.add_argument("--arrival-rate", type=float, default=0.0, help="sessions/s (0: all at once)")
    parser.add_argument("--arrival", choices=("poisson", "fixed"), default="poisson")
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, default=["candidate_first"])
    parser.add_argument("--answers", type=int, default=1, choices=range(0, len(ANSWERS) + 1))
    parser.add_argument("--role", default="backend-engineer")
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


def _validate(args: argparse.Namespace) -> str | None:
    if args.sessions < 1 or args.concurrency < 1:
        return "--sessions and --concurrency must be at least 1"
    if args.api and not args.emulator:
        return "--api needs --emulator host:port"
    impaired = args.impair_loss is not None or args.impair_delay_ms or args.impair_jitter_ms
    if impaired and args.api:
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
    from interviewer.bench.netimpair import interrupt_on_sigterm

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

    with _target(args) as (target, stack_groups, finish):
        progress = Progress(args.sessions)
        driver: DriverProcess | None = None
        if target.livekit_host is not None:
            driver = DriverProcess(
                finish["exec_argv"]([sys.executable, "-m", "interviewer.bench.runner", "--driver"])
            )
            await driver.start()
        running = ResourceSampler(target.worker_pids, lambda: progress.running)
        try:
            with running:
                records = await drive(args, target, sink, driver.run if driver else _local, progress)
        finally:
            if driver is not None:
                await driver.close()
        attribute(records, target)
        if target.database_url:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(from_store, records, target.database_url)
        extra["resources"] = running.per_interview()
        extra["samples"] = running.samples
        extra["wall_s"] = time.time() - started
        extra["impairment"] = finish.get("impairment")
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
    _print_summary(summary, jsonl, summary_path, plot_path)
    return 0 if not summary["orphans_after_run"] and not summary["stack_survivors"] else 1


async def _local(spec: dict[str, Any]) -> dict[str, Any]:
    return await run_session(spec)


@contextmanager
def _target(args: argparse.Namespace) -> Iterator[tuple[Target, list[int], dict[str, Any]]]:
    finish: dict[str, Any] = {"exec_argv": lambda argv: argv}
    if args.api:
        target = Target(
            api_urls=args.api,
            emulator_host=args.emulator,
            database_url=args.database or os.environ.get("DATABASE_URL"),
            livekit_key=os.environ.get("LIVEKIT_API_KEY"),
            livekit_secret=os.environ.get("LIVEKIT_API_SECRET"),
            node_logs={p.parent.name or str(p): p for p in args.livekit_log},
            worker_pids=args.worker_pid,
        )
        yield target, [], finish
        return
    from interviewer.bench.netimpair import Impairment, impaired_network
    from interviewer.bench.stack import bench_stack

    workdir = Path(tempfile.mkdtemp(prefix="interviewer-bench-"))
    impaired = args.impair_loss is not None or args.impair_delay_ms or args.impair_jitter_ms
    worker_env = dict(item.split("=", 1) for item in args.worker_env)
    with contextlib.ExitStack() as stack_of:
        listen: tuple[str, str] | None = None
        if impaired:
            impairment = Impairment(
                args.impair_loss or 0.0, args.impair_delay_ms, args.impair_jitter_ms, args.seed
            )
            net = stack_of.enter_context(
                impaired_network(
                    impairment, max_seconds=args.max_minutes * 60 + 600, subnet=args.impair_subnet
                )
            )
            listen = (net.root_ip, net.root_if)
            finish["exec_argv"] = net.exec_argv
            finish["impairment"] = {**asdict(impairment), "net": net.tag}
        stack = stack_of.enter_context(
            bench_stack(workdir, cluster=args.cluster, impaired=listen, worker_env=worker_env)
        )
        target = Target(
            api_urls=stack.api_urls,
            emulator_host=stack.emulator_host,
            database_url=stack.database_url,
            livekit_key=stack.livekit_api_key,
            livekit_secret=stack.livekit_api_secret,
            node_logs={node.name: node.log_path for node in stack.nodes},
            node_workers={node.name: node.worker_name for node in stack.nodes},
            worker_pids=stack.worker_pids,
            livekit_host=listen[0] if listen else None,
        )
        print(f"bench stack up in {workdir} (logs there)", file=sys.stderr, flush=True)
        try:
            yield target, stack.pgids, finish
        finally:
            stack_of.close()
            finish["survivors"] = stack.survivors
            if impaired:
                finish["impairment"]["bridge"] = net.bridge_stats()


def _print_summary(summary: dict[str, Any], *paths: Path) -> None:
    def ci(block: dict[str, Any], key: str) -> str:
        value, (low, high) = block.get(key), block.get(f"{key}_ci95", [None, None])

        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:.2f}"

        return f"{key} {fmt(value)} [{fmt(low)}, {fmt(high)}]"

    audio = summary["audio_startup"]
    low, high = audio["ci95"]
    print(
        f"sessions {summary['sessions']}, errors {summary['errors']}, busy answers {summary['busy_answers']}"
    )
    if audio["rate"] is not None:
        print(
            f"audio startup ok {audio['k']}/{audio['n']} = {audio['rate']:.1%} (95% CI {low:.1%}..{high:.1%})"
        )
    for key in ("dispatch_s", "greeting_s", "reply_s"):
        block = summary[key]
        print(f"{key:11} n={block['n']:<4} {ci(block, 'p50')}  {ci(block, 'p95')}  {ci(block, 'p99')}")
    print(
        f"missed dispatch {summary['missed_dispatch']['k']}, "
        f"duplicate agents {summary['duplicate_agents']['k']} "
        f"({summary['agents_at_once_over_1']['k']} with two at once), "
        f"duplicate jobs {summary['duplicate_jobs']['k']}, tool calls before the guard opened "
        f"{summary['tool_calls_before_guard']}, guard refusals {summary['guard_refusals']}"
    )
    print(
        f"by node {summary['by_node']}  by worker {summary['by_worker']}  "
        f"by scenario {summary['by_scenario']}"
    )
    res = summary.get("resources", {})
    print(
        f"per interview: CPU {res.get('cpu_percent_per_interview', {}).get('p50')} % of a core (p50), "
        f"PSS {res.get('pss_mb_per_interview', {}).get('p50')} MB (p50)"
    )
    print(
        f"orphans after the run: {summary['orphans_after_run'] or 'none'}; "
        f"survivors: {summary['stack_survivors'] or 'none'}"
    )
    for path in paths:
        print(f"wrote {path}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--driver"]:
        sys.exit(asyncio.run(_driver()))
    print("use `interviewer bench` (this module's --driver is internal)", file=sys.stderr)
    sys.exit(2)
