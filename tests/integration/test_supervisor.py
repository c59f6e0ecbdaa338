"""`interviewer up` as a user runs it: the whole stack (livekit-server, Auth emulator, api, agent worker)
under one supervisor, started in its own session so every process it creates can be counted from /proc.

- Ctrl-C (SIGINT) with everything up: `up` exits and no process of its session is left.
- A child killed from outside: `up` reports it ("!!"), stops the rest and exits non-zero, leaving nothing.
- `up` itself SIGKILLed (no handler runs): the kernel sends each child SIGTERM and each shuts down cleanly.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from interviewer.procs import descendants, free_port
from tests.fixtures.lifecycle import pid_alive, wait_for

pytestmark = pytest.mark.integration

UP_TIMEOUT = 180.0
EXIT_TIMEOUT = 60.0
ORPHANED_SHUTDOWN_TIMEOUT = 45.0  # the children stop on their own: the worker drains, the emulator its JVM


def session_pids(sid: int) -> set[int]:
    """Live processes under `up` (each child gets its own session, so follow the parent links down)."""
    return descendants(sid)


class Up:
    def __init__(self, tmp: Path, extra: tuple[str, ...] = (), up_text: str = "Interviewer is up") -> None:
        self.up_text = up_text
        self.port = free_port()
        self.out = tmp / "up.out"
        env = {**os.environ, "INTERVIEWER_DATA_DIR": str(tmp / "data"), "DRAIN_TIMEOUT_SECONDS": "10"}
        self.log = open(self.out, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "interviewer.cli", "up", "--port", str(self.port), *extra],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.tree: set[int] = set()  # every pid seen under `up`, grandchildren included

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def wait_up(self, timeout: float = UP_TIMEOUT) -> None:
        def up() -> bool:
            assert self.proc.poll() is None, f"`up` exited early:\n{self.text()}"
            self.tree |= session_pids(self.proc.pid)
            return self.up_text in self.text()

        wait_for(up, timeout, "`interviewer up` to print that it is up", 0.2)
        self.tree |= session_pids(self.proc.pid)

    def child_pid(self, name: str) -> int:
        match = re.search(rf"started {re.escape(name)} \(pid (\d+)", self.text())
        assert match, self.text()
        return int(match.group(1))

    def left(self) -> set[int]:
        return {pid for pid in self.tree if pid_alive(pid)}

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        for pid in self.left():  # the test failed: do not leak what it started
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    runner = Up(tmp_path)
    try:
        yield runner
    finally:
        runner.close()


def test_ctrl_c_with_the_whole_stack_up_leaves_no_process(up: Up) -> None:
    up.wait_up()
    assert len(up.tree) >= 5, up.tree  # up, livekit-server, emulator, api, worker (+ forkserver, jobs)
    os.kill(up.proc.pid, signal.SIGINT)
    up.proc.wait(EXIT_TIMEOUT)
    deadline = time.monotonic() + 5
    while up.left() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not up.left(), f"left behind: {sorted(up.left())}\n{up.text()}"
    assert "all stopped; nothing left running." in up.text()


def test_a_killed_child_is_reported_and_up_exits_non_zero(up: Up) -> None:
    up.wait_up()
    api = up.child_pid("api")
    os.kill(api, signal.SIGKILL)
    code = up.proc.wait(EXIT_TIMEOUT)
    assert code != 0
    assert re.search(r"!! api exited with code -9", up.text()), up.text()
    deadline = time.monotonic() + 5
    while up.left() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not up.left(), f"left behind: {sorted(up.left())}\n{up.text()}"


def test_up_killed_outright_takes_the_whole_stack_with_it(up: Up) -> None:
    up.wait_up()
    children = {name: up.child_pid(name) for name in ("livekit-server", "firebase-auth-emulator", "api")}
    os.kill(up.proc.pid, signal.SIGKILL)
    assert up.proc.wait(10) == -signal.SIGKILL
    wait_for(lambda: not up.left(), ORPHANED_SHUTDOWN_TIMEOUT, "every process of the stack to exit", 0.05)
    assert not any(pid_alive(pid) for pid in children.values()), children
