"""What the bench runs against: a running stack (`--api`), or one it brings up itself (`--up`,
`--cluster`), optionally with the candidates behind netimpair's lossy bridge (`--impair-*`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interviewer.bench.stack import BenchStack


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
    stack: BenchStack | None = None  # a stack brought up here: its processes, for `--fault`


def is_impaired(args: argparse.Namespace) -> bool:
    """Whether any `--impair-*` option asks for the candidates to sit behind netimpair."""
    return bool(args.impair_loss is not None or args.impair_delay_ms or args.impair_jitter_ms)


@contextmanager
def bench_target(args: argparse.Namespace) -> Iterator[tuple[Target, list[int], dict[str, Any]]]:
    """The target, the process groups of a stack brought up here (empty with `--api`), and `finish`: how
    to start the candidates' process (`exec_argv`) and, once the stack is down, what survived it and
    what the impaired bridge did."""
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
    # Imported here: a run against `--api` needs neither the namespace tooling nor the stack's.
    from interviewer.bench.netimpair import Impairment, impaired_network
    from interviewer.bench.stack import bench_stack

    workdir = Path(tempfile.mkdtemp(prefix="interviewer-bench-"))
    impaired = is_impaired(args)
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
            stack=stack,
        )
        print(f"bench stack up in {workdir} (logs there)", file=sys.stderr, flush=True)
        try:
            yield target, stack.pgids, finish
        finally:
            # Close before reading survivors and bridge stats: both describe the stack once it is down.
            stack_of.close()
            finish["survivors"] = stack.survivors
            if impaired:
                finish["impairment"]["bridge"] = net.bridge_stats()
