"""Child processes that always die: each in its own process group, stopped as a group, verified gone.

Used by the supervisor (`interviewer up`) and by the test fixtures, so both clean up the same way.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from interviewer.parent_death import die_with_parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A group whose members are all zombies still answers signal 0; look for a live member.
    return any(info.pgid == pgid and info.alive for info in process_table().values())


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    pgid: int
    state: str  # one letter, as in /proc/PID/stat: R, S, Z, ...

    @property
    def alive(self) -> bool:
        return self.state not in ("Z", "X")


def process_table() -> dict[int, ProcInfo]:
    """Every process on the machine, read from /proc (processes that vanish meanwhile are skipped)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The command name may contain spaces and parentheses: split after the last ")".
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry)] = ProcInfo(int(entry), ppid=int(fields[1]), pgid=int(fields[2]), state=fields[0])
    return table


def pids_in_group(pgid: int) -> list[int]:
    return [info.pid for info in process_table().values() if info.pgid == pgid]


def descendants(root: int) -> set[int]:
    """Live processes below `root` (following parent links), `root` included if alive."""
    table = process_table()
    found = {root} if root in table and table[root].alive else set()
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for info in table.values():
            if info.ppid == parent and info.pid not in found and info.alive:
                found.add(info.pid)
                frontier.append(info.pid)
    return found


# The `signal` method below shadows the module inside the class body, so default arguments use this name.
_SIGTERM = signal.SIGTERM


class StartupError(RuntimeError):
    pass


@dataclass
class ManagedProcess:
    """A child started in a new session (so its own process group), with its output in a log file."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    log_path: Path | None = None
    # Signal the child gets if this process dies without stopping it (even by SIGKILL). Arm it only from a
    # thread that lives as long as the process: the kernel ties it to the forking thread (parent_death.py).
    parent_death_signal: int | None = None
    # Run as this user (root only): servers such as postgres refuse to run as root.
    user: str | None = None
    # What `stop` sends first (postgres takes SIGINT as its fast shutdown; SIGTERM waits for every client).
    stop_signal: int = _SIGTERM
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False)

    def start(self) -> ManagedProcess:
        env = dict(os.environ if self.env is None else self.env)
        stdout: int | IO[bytes] = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            stdout = self._log
        self.proc = subprocess.Popen(
            list(self.argv),
            env=env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=None if self.parent_death_signal is None else self._arm_parent_death(),
            user=self.user,
            group=None if self.user is None else pwd.getpwnam(self.user).pw_gid,
            extra_groups=None if self.user is None else [],
        )
        return self

    def _arm_parent_death(self) -> Callable[[], None]:
        parent, signum = os.getpid(), self.parent_death_signal
        assert signum is not None

        def arm() -> None:  # runs in the child between fork and exec; the setting survives exec
            die_with_parent(parent, signum)

        return arm

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} not started"
        return self.proc.pid

    @property
    def pgid(self) -> int:
        return self.pid  # start_new_session makes the child its group's leader

    def poll(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll `ready` until true; fail early if the process exits, late if the deadline passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.poll()
            if code is not None:
                raise StartupError(f"{self.name} exited with {code} before {what}:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.05)
        raise StartupError(f"{self.name} not {what} after {timeout:.0f}s:\n{self.log_tail()}")

    def wait_port(self, port: int, timeout: float = 30.0) -> None:
        self.wait_until(lambda: port_open(port), timeout, f"listening on {port}")

    def wait_http(self, url: str, timeout: float = 30.0, status: int = 200) -> None:
        def answers() -> bool:
            try:
                return httpx.get(url, timeout=0.5).status_code == status
            except httpx.HTTPError:
                return False

        self.wait_until(answers, timeout, f"answering {url}")

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signum)

    def crash(self, reaped_within: float = 10.0) -> None:
        """SIGKILL the leader alone, as a crash or the OOM killer would (its children are told by nobody),
        and reap it. Raises TimeoutError if it is still there after `reaped_within` seconds."""
        assert self.proc is not None, f"{self.name} not started"
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        try:
            self.proc.wait(timeout=reaped_within)
        except subprocess.TimeoutExpired as error:
            raise TimeoutError(f"{self.name} not reaped {reaped_within:.0f} s after SIGKILL") from error

    def stop(self, timeout: float = 10.0, signum: int | None = None) -> int | None:
        """Signal the whole group (`stop_signal` unless told), wait, then SIGKILL what is left. Returns the
        leader's exit code."""
        if self.proc is None:
            return None
        signum = self.stop_signal if signum is None else signum
        if group_alive(self.pgid):
            self.signal(signum)
            deadline = time.monotonic() + timeout
            while group_alive(self.pgid) and time.monotonic() < deadline:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=0.05)
            if group_alive(self.pgid):
                self.signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        deadline = time.monotonic() + 5
        while group_alive(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.proc.returncode

    def __enter__(self) -> ManagedProcess:
        return self.start() if self.proc is None else self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
