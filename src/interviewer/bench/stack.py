"""The stack `interviewer bench --up|--cluster` brings up for itself, and reads back afterwards.

The same pieces as `interviewer up` (one livekit node, SQLite) and `interviewer up --cluster` (Redis,
Postgres, two livekit nodes sharing the Redis, one api and one worker per node), under the same
`Supervisor`, but as a context manager that hands the bench what it needs to attribute sessions: every
node's log (which node hosted a room, which worker took its job), the database URL (tool calls, guard) and
the process groups (CPU, memory, orphans). With `impaired_ip` each node also listens on, and advertises
only, that address (the root side of netimpair's veth) besides loopback, so candidates in the namespace
reach signalling and media there, while apis and workers stay on loopback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from interviewer.auth.emulator import build_auth_emulator
from interviewer.auth.emulator import wait_ready as wait_emulator
from interviewer.config import load_settings
from interviewer.datastores import (
    PostgresConfig,
    build_postgres,
    build_redis,
    remove_dir,
    wait_postgres,
    wait_redis,
)
from interviewer.livekit_server import LiveKitServerConfig, build_livekit_process
from interviewer.livekit_server import wait_ready as wait_livekit
from interviewer.procs import ManagedProcess, free_port, group_alive
from interviewer.up import WORKER_READY_TIMEOUT, Supervisor


@dataclass
class Node:
    name: str  # livekit-1, ...
    config: LiveKitServerConfig
    log_path: Path
    worker_name: str  # the worker registered on this node


@dataclass
class BenchStack:
    api_urls: list[str]
    emulator_host: str
    database_url: str
    livekit_api_key: str
    livekit_api_secret: str
    nodes: list[Node]
    worker_pids: list[int] = field(default_factory=list)
    pgids: list[int] = field(default_factory=list)  # every child's process group (for the orphan check)
    survivors: list[str] = field(default_factory=list)  # filled after stop: groups still alive
    # For `--fault`: the supervisor's own handles (a part restarted through them is still stopped, and
    # checked, at the end), each worker's health URL (its jobs) and the Postgres server's port.
    processes: dict[str, ManagedProcess] = field(default_factory=dict)  # name -> process
    worker_health: dict[str, str] = field(default_factory=dict)  # worker name -> http://127.0.0.1:port
    postgres: PostgresConfig | None = None


def _listen_on(config: LiveKitServerConfig, address: str, interface: str) -> None:
    """Rewrite the node's YAML: signalling on loopback and `address`, media only on `address` (its
    interface). The workers reach that address locally. With loopback offered as well (the `lo` filter and
    the loopback candidate), a candidate in the namespace never completed ICE (measured: the server sent its
    checks and heard none back)."""
    body = yaml.safe_load(config.config_path.read_text())
    body["bind_addresses"] = ["127.0.0.1", address]
    rtc = body["rtc"]
    rtc["node_ip"] = address
    rtc["interfaces"] = {"includes": [interface]}
    rtc["enable_loopback_candidate"] = False
    config.config_path.write_text(yaml.safe_dump(body, sort_keys=False))


@contextmanager
def bench_stack(
    workdir: Path,
    *,
    cluster: bool,
    impaired: tuple[str, str] | None = None,  # (root-side address, its interface)
    worker_env: dict[str, str] | None = None,
) -> Iterator[BenchStack]:
    os.environ["INTERVIEWER_MODE"] = os.environ.get("INTERVIEWER_MODE", "development")
    settings = load_settings()
    workdir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(workdir)
    scratch: list[Path] = []
    stack: BenchStack | None = None
    try:
        redis_address = None
        postgres_config: PostgresConfig | None = None
        database_url = f"sqlite:///{(workdir / 'interviewer.db').resolve()}"
        extra: dict[str, str] = {}
        if cluster:
            redis, redis_config = build_redis()
            scratch.append(redis_config.base_dir)
            supervisor.start(redis)
            wait_redis(redis, redis_config)
            postgres, postgres_config = build_postgres(durable=False)
            scratch.append(postgres_config.base_dir)
            supervisor.start(postgres)
            wait_postgres(postgres, postgres_config)
            redis_address = f"127.0.0.1:{redis_config.port}"
            database_url = postgres_config.url
            extra["REDIS_URL"] = redis_config.url
        nodes: list[Node] = []
        for n in range(1, (2 if cluster else 1) + 1):
            node_dir = workdir / f"livekit-{n}"
            process, config = build_livekit_process(
                settings, node_dir, redis_address=redis_address, name=f"livekit-{n}"
            )
            if impaired is not None:
                _listen_on(config, *impaired)
            supervisor.start(process)
            assert process.log_path is not None
            nodes.append(Node(f"livekit-{n}", config, process.log_path, f"agent-worker-{n}"))
        for node, process in zip(nodes, supervisor.children[-len(nodes) :], strict=True):
            wait_livekit(process, node.config)
        emulator, emulator_config = build_auth_emulator(
            workdir / "firebase", project_id=settings.firebase_project_id
        )
        supervisor.start(emulator)
        wait_emulator(emulator, emulator_config)
        common = {
            **os.environ,
            **extra,
            "LIVEKIT_API_KEY": nodes[0].config.api_key,
            "LIVEKIT_API_SECRET": nodes[0].config.api_secret,
            "FIREBASE_AUTH_EMULATOR_HOST": emulator_config.host,
            "FIREBASE_PROJECT_ID": emulator_config.project_id,
            "DATABASE_URL": database_url,
            "RATE_LIMIT_PER_MINUTE": os.environ.get("RATE_LIMIT_PER_MINUTE", "100000"),
        }
        command = [sys.executable, "-m", "interviewer.cli"]
        apis: list[tuple[ManagedProcess, str]] = []
        # Behind an impaired network the api listens on the bridge's root side, as livekit does: a
        # candidate in the namespace must reach it to rejoin after a lost connection.
        api_host = impaired[0] if impaired is not None else "127.0.0.1"
        for n, node in enumerate(nodes, start=1):
            port = free_port()
            env = {**common, "LIVEKIT_URL": node.config.url, "API_HOST": api_host, "API_PORT": str(port)}
            api = ManagedProcess(f"api-{n}", [*command, "api"], env=env, log_path=workdir / f"api-{n}.log")
            apis.append((supervisor.start(api), f"http://{api_host}:{port}"))
        for api, url in apis:
            api.wait_http(f"{url}/readyz", timeout=60)
        workers: list[tuple[ManagedProcess, int]] = []
        for node in nodes:
            health = free_port()
            env = {
                **common,
                **(worker_env or {}),
                "LIVEKIT_URL": node.config.url,
                "AGENT_HEALTH_PORT": str(health),
            }
            worker = ManagedProcess(
                node.worker_name, [*command, "agent"], env=env, log_path=workdir / f"{node.worker_name}.log"
            )
            workers.append((supervisor.start(worker), health))
        for worker, health in workers:
            worker.wait_http(f"http://127.0.0.1:{health}/readyz", timeout=WORKER_READY_TIMEOUT)
        stack = BenchStack(
            api_urls=[url for _api, url in apis],
            emulator_host=emulator_config.host,
            database_url=database_url,
            livekit_api_key=nodes[0].config.api_key,
            livekit_api_secret=nodes[0].config.api_secret,
            nodes=nodes,
            worker_pids=[worker.pid for worker, _health in workers],
            pgids=[child.pgid for child in supervisor.children],
            processes={child.name: child for child in supervisor.children},
            worker_health={worker.name: f"http://127.0.0.1:{health}" for worker, health in workers},
            postgres=postgres_config,
        )
        yield stack
    finally:
        pgids = [child.pgid for child in supervisor.children if child.proc is not None]
        survivors = supervisor.stop_all(settings.drain_timeout_seconds)
        survivors += [f"group {g}" for g in pgids if group_alive(g) and f"group {g}" not in survivors]
        if stack is not None:
            stack.survivors = sorted(set(survivors))
        for path in scratch:
            remove_dir(path)
