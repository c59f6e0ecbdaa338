"""PostgreSQL and Redis on loopback, each from its own temporary directory, for `interviewer up --cluster`
and the test fixtures (Debian's `postgresql` and `redis-server` packages, installed by `make system-deps`).

Postgres refuses to run as root: when this process is root, `initdb` and `postgres` run as the `postgres`
system user the Debian package creates, from a directory handed over to it. Both servers are a
`ManagedProcess` in their own process group, so stopping is the same group-wide, verified stop as every
other child; the caller removes the directory afterwards (`remove_dir`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from interviewer.procs import ManagedProcess, free_port, port_open

LOOPBACK = "127.0.0.1"
POSTGRES_USER = "postgres"  # the system user, and the database superuser initdb creates
DATABASE = "interviewer"


class DatastoreError(RuntimeError):
    """A server binary is missing or a server did not start."""


def postgres_bindir() -> Path:
    """Debian installs each major version under /usr/lib/postgresql/N/bin; the newest wins."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(re.sub(r"\D", "", p.parent.parent.name) or 0),
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("postgres")
    if found is None:
        raise DatastoreError("PostgreSQL server not found: run `make system-deps` (Debian `postgresql`)")
    return Path(found).parent


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(POSTGRES_USER)
    except KeyError:
        raise DatastoreError(f"running as root needs the `{POSTGRES_USER}` system user") from None
    return POSTGRES_USER


@dataclass(frozen=True)
class PostgresConfig:
    port: int
    base_dir: Path  # holds the data directory and the log; removed after stop

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://{POSTGRES_USER}@{LOOPBACK}:{self.port}/postgres"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{POSTGRES_USER}@{LOOPBACK}:{self.port}/{DATABASE}"


def build_postgres(*, durable: bool = True) -> tuple[ManagedProcess, PostgresConfig]:
    """`initdb` a fresh cluster in a new temporary directory (trust authentication: it listens on
    loopback only) and return the server process, not started. `durable=False` turns fsync off (tests)."""
    user = _run_as()
    bindir = postgres_bindir()
    base = Path(tempfile.mkdtemp(prefix="interviewer-pg-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    data = base / "data"
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", POSTGRES_USER, "-A", "trust", "-E", "UTF8"]
    result = subprocess.run(
        [*initdb, "--no-sync"] if not durable else initdb,
        cwd=base,
        user=user,
        group=None if user is None else pwd.getpwnam(user).pw_gid,
        extra_groups=None if user is None else [],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        remove_dir(base)
        raise DatastoreError(f"initdb failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    port = free_port()
    argv = [
        str(bindir / "postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-c",
        f"listen_addresses={LOOPBACK}",
        "-c",
        f"unix_socket_directories={base}",
        "-c",
        "max_connections=200",
    ]
    if not durable:
        argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    process = ManagedProcess("postgres", argv, cwd=base, log_path=base / "postgres.log", user=user)
    # SIGINT is Postgres' fast shutdown (SIGTERM would wait for every client to disconnect).
    process.stop_signal = signal.SIGINT
    return process, PostgresConfig(port=port, base_dir=base)


def wait_postgres(process: ManagedProcess, config: PostgresConfig, timeout: float = 30.0) -> None:
    """Wait until the server takes queries, then create the application database."""
    import psycopg

    def accepts() -> bool:
        if not port_open(config.port):
            return False
        try:
            with psycopg.connect(host=LOOPBACK, port=config.port, user=POSTGRES_USER, dbname="postgres"):
                return True
        except psycopg.OperationalError:  # "the database system is starting up"
            return False

    process.wait_until(accepts, timeout, "accepting connections")
    with psycopg.connect(
        host=LOOPBACK, port=config.port, user=POSTGRES_USER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")


def stop_postgres(process: ManagedProcess, timeout: float = 20.0) -> int | None:
    return process.stop(timeout=timeout)


@dataclass(frozen=True)
class RedisConfig:
    port: int
    base_dir: Path

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"


def build_redis() -> tuple[ManagedProcess, RedisConfig]:
    """A Redis that keeps nothing on disk (no snapshots, no append-only file), not started."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise DatastoreError("redis-server not found: run `make system-deps` (Debian `redis-server`)")
    base = Path(tempfile.mkdtemp(prefix="interviewer-redis-"))
    port = free_port()
    argv = [binary, "--bind", LOOPBACK, "--port", str(port), "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(base), "--protected-mode", "yes"]
    process = ManagedProcess("redis", argv, cwd=base, log_path=base / "redis.log")
    return process, RedisConfig(port=port, base_dir=base)


def wait_redis(process: ManagedProcess, config: RedisConfig, timeout: float = 15.0) -> None:
    def pong() -> bool:
        if not port_open(config.port):
            return False
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, config.port), 1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False

    process.wait_until(pong, timeout, "answering PING")


def remove_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
