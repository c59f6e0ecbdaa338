"""`interviewer up --cluster`: the production shape on one machine, for load and fault tests.

Redis and PostgreSQL (each from its own temporary directory) on loopback, two livekit-server nodes that form
one cluster through that Redis, the Firebase Auth emulator, two api instances (sharing rate limits through
Redis, each talking to its own node) and two agent workers (one per node; livekit routes a room's dispatch
to a worker on any node). Everything is a child of the same `Supervisor` as `interviewer up`: the same
health waits, the same reverse-order stop (workers drain first, Postgres last), the same check that no
process group survived; then the two temporary directories are removed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from interviewer.auth.emulator import build_auth_emulator
from interviewer.auth.emulator import wait_ready as wait_emulator
from interviewer.config import load_settings
from interviewer.datastores import build_postgres, build_redis, remove_dir, wait_postgres, wait_redis
from interviewer.livekit_server import build_livekit_process, host_ip
from interviewer.livekit_server import wait_ready as wait_livekit
from interviewer.procs import ManagedProcess, free_port
from interviewer.up import WORKER_READY_TIMEOUT, Supervisor

NODES = 2


def main(open_port: int = 8000) -> int:
    os.environ["INTERVIEWER_MODE"] = os.environ.get("INTERVIEWER_MODE", "development")
    settings = load_settings()
    workdir = (settings.data_dir / "cluster").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(workdir)
    running = threading.Event()
    scratch: list[Path] = []

    def on_signal(signum: int, _frame: object) -> None:
        if supervisor.stopping.is_set():
            return
        print(f"\nreceived {signal.Signals(signum).name}: stopping everything…", flush=True)
        supervisor.stopping.set()
        if not running.is_set():
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    code = 0
    try:
        print("starting the Interviewer cluster:", flush=True)
        redis, redis_config = build_redis()
        scratch.append(redis_config.base_dir)
        supervisor.start(redis)
        wait_redis(redis, redis_config)
        postgres, postgres_config = build_postgres()
        scratch.append(postgres_config.base_dir)
        supervisor.start(postgres)
        wait_postgres(postgres, postgres_config)

        nodes = []
        browser_ip = host_ip()
        for n in range(1, NODES + 1):
            node, node_config = build_livekit_process(
                settings,
                workdir / f"livekit-{n}",
                browser_ip=browser_ip,
                redis_address=f"127.0.0.1:{redis_config.port}",
                name=f"livekit-{n}",
            )
            supervisor.start(node)
            nodes.append((node, node_config))
        for node, node_config in nodes:
            wait_livekit(node, node_config)

        emulator, emulator_config = build_auth_emulator(
            workdir / "firebase", project_id=settings.firebase_project_id
        )
        supervisor.start(emulator)
        wait_emulator(emulator, emulator_config)
        print(f"  the Auth emulator answers at {emulator_config.host}", flush=True)

        common = {
            **os.environ,
            "LIVEKIT_API_KEY": nodes[0][1].api_key,
            "LIVEKIT_API_SECRET": nodes[0][1].api_secret,
            "FIREBASE_AUTH_EMULATOR_HOST": emulator_config.host,
            "FIREBASE_PROJECT_ID": emulator_config.project_id,
            "DATABASE_URL": postgres_config.url,
            "REDIS_URL": redis_config.url,
        }
        command = [sys.executable, "-m", "interviewer.cli"]
        api_ports = [open_port, *(free_port() for _ in range(NODES - 1))]
        apis = []
        for n, ((_node, node_config), port) in enumerate(zip(nodes, api_ports, strict=True), start=1):
            env = {**common, "LIVEKIT_URL": node_config.url, "API_PORT": str(port)}
            api = ManagedProcess(f"api-{n}", [*command, "api"], env=env, log_path=workdir / f"api-{n}.log")
            apis.append((supervisor.start(api), port))
        for api, port in apis:
            api.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)

        workers = []
        for n, (_node, node_config) in enumerate(nodes, start=1):
            health = free_port()
            env = {**common, "LIVEKIT_URL": node_config.url, "AGENT_HEALTH_PORT": str(health)}
            log_path = workdir / f"agent-worker-{n}.log"
            worker = ManagedProcess(f"agent-worker-{n}", [*command, "agent"], env=env, log_path=log_path)
            workers.append((supervisor.start(worker), health))
        for worker, health in workers:
            worker.wait_http(f"http://127.0.0.1:{health}/readyz", timeout=WORKER_READY_TIMEOUT)

        running.set()
        urls = "  ".join(f"http://127.0.0.1:{port}" for _api, port in apis)
        print(f"\nInterviewer cluster is up: {urls}\n(Ctrl-C stops everything)", flush=True)
        while not supervisor.stopping.wait(0.5):
            dead = supervisor.crashed()
            if dead is not None:
                print(f"\n!! {dead.name} exited with code {dead.poll()}; last lines of its log:", flush=True)
                print(dead.log_tail(20), flush=True)
                code = 1
                break
    except KeyboardInterrupt:
        code = 130
    except Exception as error:
        print(f"\n!! {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        survivors = supervisor.stop_all(settings.drain_timeout_seconds)
        for path in scratch:
            remove_dir(path)
        if survivors:
            print(f"!! still running after stop: {', '.join(survivors)}", file=sys.stderr, flush=True)
            code = 1
        else:
            print("all stopped; nothing left running.", flush=True)
    return code
