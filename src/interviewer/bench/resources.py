"""What the run cost and left behind: CPU and memory (PSS) of the agent workers' process trees sampled
once a second against the sessions running, divided per running interview; and the processes still
alive once everything the bench started should have stopped."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interviewer.bench.stats import describe
from interviewer.procs import descendants, process_table

# One sample: {"t": wall clock, "active": sessions running, "cpu_s": CPU seconds so far, "pss_mb": PSS}.
Sample = dict[str, float]


@dataclass(frozen=True)
class PerInterviewPoint:
    """Between two samples with interviews running: the workers' cost divided by those interviews."""

    t: float  # seconds since the first sample
    cpu_percent: float  # of one core
    pss_mb_above_idle: float  # above the first sample's PSS (the workers before any interview)


def per_interview_points(samples: list[Sample]) -> list[PerInterviewPoint]:
    """CPU (from the CPU-seconds delta) and memory per running interview, for each pair of samples."""
    if not samples:
        return []
    t0, idle = samples[0]["t"], samples[0]["pss_mb"]
    points = []
    for before, after in itertools.pairwise(samples):
        # A wall clock that did not advance (or stepped back) gives no rate.
        if after["active"] > 0 and after["t"] > before["t"]:
            used = 100 * (after["cpu_s"] - before["cpu_s"]) / (after["t"] - before["t"])
            points.append(
                PerInterviewPoint(
                    t=after["t"] - t0,
                    cpu_percent=max(0.0, used) / after["active"],
                    pss_mb_above_idle=(after["pss_mb"] - idle) / after["active"],
                )
            )
    return points


class ResourceSampler:
    """Once a second: CPU seconds and PSS of the agent workers' process trees, and sessions running."""

    def __init__(self, roots: list[int], active: Callable[[], int]) -> None:
        self.roots, self.active = roots, active
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        # A thread, not a task: sampling must keep its pace while the event loop is busy with sessions.
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ticks = os.sysconf("SC_CLK_TCK")

    def _cpu_s(self, pid: int, children_too: bool) -> float:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()  # after the command, which may hold spaces
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

    def sample(self) -> Sample:
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
        points = per_interview_points(self.samples)
        return {
            "idle_pss_mb": self.samples[0]["pss_mb"] if self.samples else None,
            "cpu_percent_per_interview": describe([p.cpu_percent for p in points], (0.5, 0.95)),
            "pss_mb_per_interview": describe([p.pss_mb_above_idle for p in points], (0.5, 0.95)),
        }


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
            continue  # it ended while we looked
        out.append({"pid": pid, "cmd": cmd.strip()[:200]})
    return out
