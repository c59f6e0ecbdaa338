"""The load a worker reports: real headroom, not only a count of interviews.

Two gates, each where a "no" can be said well:
- The api admits a new candidate only while some worker is under every pressure (the heartbeat's
  `accepting`): refusing there is a clear "busy, retry in N s". The pressures, of which `load` is the
  highest, are interviews (running / capacity); CPU (this worker's own processes, of the machine's or
  cgroup's cores, smoothed) once it passes `cpu_full`; and replies (the p95 over a window against the
  budget a candidate tolerates). An idle worker is never under pressure.
- LiveKit is told only the share of slots in use (`slots_used`). A candidate the api admitted is already in
  the room: a worker with a free slot takes the job even when its CPU runs hot, because refusing there
  leaves the candidate in a silent room until dispatch recovery sends the job again.
Job processes report each reply's latency to their worker over a Unix datagram socket in the abstract
namespace (no file to clean up), named in the environment before the forkserver starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass

from livekit.agents import AgentSession, ConversationItemAddedEvent
from livekit.agents.utils import hw

from interviewer.procs import descendants

log = logging.getLogger(__name__)

LOAD_SOCKET_ENV = "INTERVIEWER_LOAD_SOCKET"
REPLY_WINDOW_SECONDS = 60.0
MIN_REPLIES_FOR_P95 = 5
CPU_SAMPLE_SECONDS = 1.0
CPU_SMOOTHING = 0.3  # weight of the newest sample: a few seconds of memory, no single spike decides


@dataclass(frozen=True)
class LoadReading:
    active: int
    capacity: int
    cpu: float  # 0..1, smoothed
    reply_p95: float | None  # seconds, over the window; None with too few replies
    load: float  # the highest pressure, 0..1: at 1 the api admits no new candidate here
    limited_by: str  # "interviews" | "cpu" | "replies"

    @property
    def slots_used(self) -> float:
        """What LiveKit is told, 0..1: at 1 it offers this worker no job."""
        return min(1.0, self.active / self.capacity)

    @property
    def accepting(self) -> bool:
        return self.load < 1.0


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class WorkerLoad:
    def __init__(self, capacity: int, *, reply_budget: float, cpu_full: float) -> None:
        self.capacity = max(1, capacity)
        self.reply_budget = reply_budget
        self.cpu_full = cpu_full
        self.socket_name = f"interviewer-load-{os.getpid()}-{id(self):x}"
        self._cpu = 0.0
        self._replies: deque[tuple[float, float]] = deque(maxlen=1000)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._socket: socket.socket | None = None

    def start(self) -> None:
        """Bind the reply socket and start sampling the CPU; export the socket name to job processes."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind("\0" + self.socket_name)
        sock.settimeout(0.5)
        self._socket = sock
        os.environ[LOAD_SOCKET_ENV] = self.socket_name
        for target in (self._sample_cpu, self._receive_replies):
            thread = threading.Thread(target=target, name=f"load-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=3)
        if self._socket is not None:
            self._socket.close()

    def reply_heard(self, seconds: float, at: float | None = None) -> None:
        with self._lock:
            self._replies.append((at if at is not None else time.monotonic(), seconds))

    def reading(self, active: int) -> LoadReading:
        now = time.monotonic()
        with self._lock:
            recent = [s for at, s in self._replies if now - at <= REPLY_WINDOW_SECONDS]
            cpu = self._cpu
        p95 = _p95(recent) if len(recent) >= MIN_REPLIES_FOR_P95 else None
        pressures = {"interviews": active / self.capacity}
        if active > 0:
            pressures["cpu"] = 1.0 if cpu >= self.cpu_full else 0.0
            pressures["replies"] = 1.0 if p95 is not None and p95 > self.reply_budget else 0.0
        limited_by = max(pressures, key=lambda name: pressures[name])
        return LoadReading(
            active=active,
            capacity=self.capacity,
            cpu=cpu,
            reply_p95=p95,
            load=min(1.0, pressures[limited_by]),
            limited_by=limited_by,
        )

    def _sample_cpu(self) -> None:
        cores = hw.get_cpu_monitor().cpu_count()  # the cgroup's share where there is one
        root = os.getpid()
        previous, then = tree_cpu_seconds(root), time.monotonic()
        while not self._stop.wait(CPU_SAMPLE_SECONDS):
            used, now = tree_cpu_seconds(root), time.monotonic()
            # A job process that exited takes its CPU time with it: a negative step is no information.
            sample = min(1.0, max(0.0, used - previous) / max(1e-3, (now - then) * cores))
            previous, then = used, now
            with self._lock:
                self._cpu = (1 - CPU_SMOOTHING) * self._cpu + CPU_SMOOTHING * sample

    def _receive_replies(self) -> None:
        assert self._socket is not None
        while not self._stop.is_set():
            try:
                data = self._socket.recv(512)
            except (TimeoutError, OSError):
                continue
            with contextlib.suppress(ValueError, TypeError, KeyError):
                self.reply_heard(float(json.loads(data)["reply_s"]))


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by `root` and every live process below it."""
    ticks = 0
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _send_reply_latency(seconds: float) -> None:
    name = os.environ.get(LOAD_SOCKET_ENV)
    if not name:
        return  # not under a worker (text mode, tests)
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(json.dumps({"reply_s": seconds}).encode(), "\0" + name)


def report_reply_latencies(session: AgentSession[None]) -> None:
    """In a job process: tell the worker how long each reply took (end of the candidate's speech to the
    first audio of the reply, as livekit measures it)."""

    def on_item(event: ConversationItemAddedEvent) -> None:
        item = event.item
        if item.type != "message" or item.role != "assistant":
            return
        latency = item.metrics.get("e2e_latency")
        if isinstance(latency, float) and latency > 0:
            # A datagram to a local socket never blocks for long; still keep it off the audio path.
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().run_in_executor(None, _send_reply_latency, latency)

    session.on("conversation_item_added", on_item)
