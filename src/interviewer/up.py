"""`interviewer up`: the whole local stack in one command (what `make run` calls).

Starts livekit-server, the Firebase Auth emulator, the api (which serves the web client) and one agent
worker, each in its own process group; waits until each is healthy; prints one URL. Ctrl-C or SIGTERM stops
them in reverse order (the worker drains first) and verifies every group is gone; closing the terminal
(SIGHUP) does the same, and if `up` is killed outright each child gets SIGTERM from the kernel. A child
that dies on its own is reported with the tail of its log, the rest are stopped, and `up` exits non-zero: a
crash loop that restarts forever would hide the problem.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from interviewer.auth.emulator import build_auth_emulator
from interviewer.auth.emulator import wait_ready as wait_emulator
from interviewer.config import load_settings
from interviewer.livekit_server import build_livekit_process, host_ip
from interviewer.livekit_server import wait_ready as wait_livekit
from interviewer.procs import ManagedProcess, free_port, group_alive

WORKER_READY_TIMEOUT = 180.0  # first start loads ~300 MB of models


@dataclass
class Supervisor:
    workdir: Path
    children: list[ManagedProcess] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self, process: ManagedProcess) -> ManagedProcess:
        # If `up` itself is killed outright (SIGKILL, OOM), each child still gets SIGTERM and shuts down
        # cleanly on its own: the worker drains, the emulator stops its JVM. Started from the main thread.
        process.parent_death_signal = signal.SIGTERM
        self.children.append(process.start())
        print(f"  started {process.name} (pid {process.pid}, log {process.log_path})", flush=True)
        return process

    def crashed(self) -> ManagedProcess | None:
        return next((p for p in self.children if p.poll() is not None), None)

    def stop_all(self, drain_timeout: float) -> list[str]:
        """Stop in reverse start order; return the names of any group that survived."""
        survivors = []
        for process in reversed(self.children):
            timeout = drain_timeout + 10 if process.name.startswith("agent-worker") else 10
            pgid = process.pgid
            process.stop(timeout=timeout)
            if group_alive(pgid):
                survivors.append(process.name)
            else:
                print(f"  stopped {process.name}", flush=True)
        return survivors


def main(open_port: int = 8000) -> int:
    # `up` is the local development stack by definition: the emulator is only allowed in development.
    os.environ["INTERVIEWER_MODE"] = os.environ.get("INTERVIEWER_MODE", "development")
    settings = load_settings()
    workdir = (settings.data_dir / "run").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(workdir)
    running = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if supervisor.stopping.is_set():
            return
        print(f"\nreceived {signal.Signals(signum).name}: stopping everything…", flush=True)
        supervisor.stopping.set()
        if not running.is_set():
            raise KeyboardInterrupt  # still starting: leave whatever wait we are in, then clean up

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)  # the terminal closed: the children are in their own sessions

    code = 0
    try:
        print("starting the Interviewer stack:", flush=True)
        livekit, livekit_config = build_livekit_process(settings, workdir / "livekit", browser_ip=host_ip())
        supervisor.start(livekit)
        wait_livekit(livekit, livekit_config)

        emulator, emulator_config = build_auth_emulator(
            workdir / "firebase", project_id=settings.firebase_project_id
        )
        supervisor.start(emulator)
        wait_emulator(emulator, emulator_config)

        env = {
            **os.environ,
            "LIVEKIT_URL": livekit_config.url,
            "LIVEKIT_API_KEY": livekit_config.api_key,
            "LIVEKIT_API_SECRET": livekit_config.api_secret,
            "FIREBASE_AUTH_EMULATOR_HOST": emulator_config.host,
            "FIREBASE_PROJECT_ID": emulator_config.project_id,
            "DATABASE_URL": settings.resolved_database_url,
        }
        command = [sys.executable, "-m", "interviewer.cli"]
        api = supervisor.start(
            ManagedProcess(
                "api",
                [*command, "api"],
                env={**env, "API_PORT": str(open_port)},
                log_path=workdir / "api.log",
            )
        )
        api.wait_http(f"http://127.0.0.1:{open_port}/readyz", timeout=60)

        health_port = free_port()
        worker = supervisor.start(
            ManagedProcess(
                "agent-worker",
                [*command, "agent"],
                env={**env, "AGENT_HEALTH_PORT": str(health_port)},
                log_path=workdir / "agent-worker.log",
            )
        )
        worker.wait_http(f"http://127.0.0.1:{health_port}/readyz", timeout=WORKER_READY_TIMEOUT)

        running.set()
        print(f"\nInterviewer is up: http://127.0.0.1:{open_port}\n(Ctrl-C stops everything)", flush=True)
        while not supervisor.stopping.wait(0.5):
            dead = supervisor.crashed()
            if dead is not None:
                print(f"\n!! {dead.name} exited with code {dead.poll()}; last lines of its log:", flush=True)
                print(dead.log_tail(20), flush=True)
                code = 1
                break
    except KeyboardInterrupt:
        code = 130
    except Exception as error:  # a child failed to start: report it, then clean up like any stop
        print(f"\n!! {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        survivors = supervisor.stop_all(settings.drain_timeout_seconds)
        if survivors:
            print(f"!! still running after stop: {', '.join(survivors)}", file=sys.stderr, flush=True)
            code = 1
        else:
            print("all stopped; nothing left running.", flush=True)
    return code
