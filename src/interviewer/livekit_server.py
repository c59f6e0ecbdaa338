"""The pinned `livekit-server` binary: find it, check its version, run it on loopback.

The supervisor (`interviewer up`) and the test fixtures both start the SFU through `running_livekit_server`
(or `build_livekit_process`), so a developer's stack and CI run the same configuration. Everything is written
into one YAML file (mode 0600, because it holds the API secret) instead of command-line flags, so the secret
never shows up in `ps`.

Loopback WebRTC: Chrome and aiortc never *gather* 127.0.0.1 as a local candidate, but a client can still reach
a *remote* candidate at 127.0.0.1: the python SDK's packets leave from the machine's own address and Linux
routes them over `lo` (the server log shows the selected pair as `127.0.0.1:udp <- 192.0.x.x`). So the server
advertises only 127.0.0.1 (`rtc.node_ip`, no external-IP discovery, loopback candidates enabled, interface
filter on `lo`) and takes media on one muxed UDP port. Without the `lo` filter it also offers the host's
other addresses; without `enable_loopback_candidate` it then offers nothing and ICE times out. ICE over TCP
is off by default because livekit-server binds that listener to every interface (`[::]`), whatever
`bind_addresses` says. `tests/integration/test_livekit_server.py` checks that two python-SDK participants
exchange microphone audio and that the server holds no socket outside loopback.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from interviewer.config import Settings
from interviewer.procs import ManagedProcess, free_port

log = logging.getLogger(__name__)

LIVEKIT_VERSION = "1.13.5"
LOOPBACK = "127.0.0.1"


class LiveKitServerError(RuntimeError):
    """The livekit-server binary is missing, is the wrong version, or did not start."""


def default_server_bin() -> Path:
    """Where `make livekit-server` installs the pinned binary (`GOBIN=... go install ...@v1.13.5`)."""
    return Path.home() / ".cache" / "interviewer" / f"livekit-v{LIVEKIT_VERSION}" / "server"


def find_livekit_server(settings: Settings) -> Path:
    """The binary from `LIVEKIT_SERVER_BIN`, else the Makefile's install location; version-checked."""
    path = settings.livekit_server_bin or default_server_bin()
    if not path.is_file() or not os.access(path, os.X_OK):
        raise LiveKitServerError(
            f"livekit-server not found at {path}: run `make livekit-server` or set LIVEKIT_SERVER_BIN"
        )
    version = server_version(path.resolve())
    if version != LIVEKIT_VERSION:
        raise LiveKitServerError(
            f"{path} reports livekit-server {version}, but {LIVEKIT_VERSION} is pinned: "
            "run `make livekit-server` or point LIVEKIT_SERVER_BIN at the pinned build"
        )
    return path


@cache
def server_version(path: Path) -> str:
    """The version `server --version` prints (cached: the supervisor and every fixture ask)."""
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise LiveKitServerError(f"{path} --version failed: {error}") from error
    match = re.search(r"version\s+v?(\d+\.\d+\.\d+)", out)
    if match is None:
        raise LiveKitServerError(f"{path} --version printed no version: {out.strip()!r}")
    return match.group(1)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveKitServerConfig:
    """The ports and credentials of one server instance; `url` is what clients and workers dial."""

    http_port: int
    rtc_udp_port: int
    rtc_tcp_port: int | None
    api_key: str
    api_secret: str
    config_path: Path

    @property
    def url(self) -> str:
        return f"ws://{LOOPBACK}:{self.http_port}"

    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    def __repr__(self) -> str:  # never print the secret
        return f"LiveKitServerConfig(url={self.url!r}, api_key={self.api_key!r}, config={self.config_path})"


def server_config_dict(
    *,
    http_port: int,
    rtc_udp_port: int,
    rtc_tcp_port: int | None,
    api_key: str,
    api_secret: str,
    log_level: str = "info",
    browser_ip: str | None = None,
    redis_address: str | None = None,
) -> dict[str, object]:
    """The YAML body: loopback-only signalling and media, one API key.

    `browser_ip`: Chrome ignores loopback ICE candidates, so a stack a browser must reach (`interviewer up`,
    the browser tests) also offers media on this host address. Signalling stays on loopback either way.
    """
    rtc: dict[str, object] = {
        # 0 turns ICE-TCP off: its listener would bind every interface (see the module docstring).
        "tcp_port": rtc_tcp_port or 0,
        # One muxed UDP port instead of a range: a single free port is easy to find, and no
        # other test's port range can collide with ours.
        "udp_port": rtc_udp_port,
        "use_external_ip": False,
        "node_ip": browser_ip or LOOPBACK,
        # Advertise the loopback address: python clients reach it from their own host address.
        "enable_loopback_candidate": True,
    }
    if browser_ip is None:
        rtc["interfaces"] = {"includes": ["lo"]}
    body: dict[str, object] = {
        "port": http_port,
        "bind_addresses": [LOOPBACK],
        "rtc": rtc,
        "keys": {api_key: api_secret},
        "logging": {"level": log_level, "json": False},
        # Rooms created by a token's dispatch and then abandoned go away on their own.
        "room": {"empty_timeout": 60, "departure_timeout": 20},
    }
    if redis_address is not None:
        body["redis"] = {"address": redis_address}
    return body


def write_server_config(
    workdir: Path,
    settings: Settings,
    log_level: str = "info",
    tcp_fallback: bool = False,
    browser_ip: str | None = None,
    redis_address: str | None = None,
) -> LiveKitServerConfig:
    """Pick free loopback ports and write `livekit.yaml` (0600, it holds the secret) into `workdir`.

    `tcp_fallback` adds an ICE-TCP port for clients whose UDP is blocked; that listener is not loopback-only.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config = LiveKitServerConfig(
        http_port=free_port(),
        rtc_udp_port=free_udp_port(),
        rtc_tcp_port=free_port() if tcp_fallback else None,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_secret(),
        config_path=workdir / "livekit.yaml",
    )
    body = server_config_dict(
        http_port=config.http_port,
        rtc_udp_port=config.rtc_udp_port,
        rtc_tcp_port=config.rtc_tcp_port,
        api_key=config.api_key,
        api_secret=config.api_secret,
        log_level=log_level,
        browser_ip=browser_ip,
        redis_address=redis_address,
    )
    fd = os.open(config.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        yaml.safe_dump(body, out, sort_keys=False)
    return config


def build_livekit_process(
    settings: Settings,
    workdir: Path,
    log_level: str = "info",
    tcp_fallback: bool = False,
    browser_ip: str | None = None,
    redis_address: str | None = None,
    name: str = "livekit-server",
) -> tuple[ManagedProcess, LiveKitServerConfig]:
    """A not-yet-started `ManagedProcess` for the pinned server plus the config it will run with.

    The log goes to `workdir/livekit-server.log`; at `info` it names the selected ICE pair per participant,
    which is the first thing to read when a client cannot connect.
    """
    binary = find_livekit_server(settings)
    config = write_server_config(workdir, settings, log_level, tcp_fallback, browser_ip, redis_address)
    process = ManagedProcess(
        name=name,
        argv=[str(binary), "--config", str(config.config_path)],
        cwd=workdir,
        log_path=workdir / "livekit-server.log",
    )
    return process, config


def wait_ready(process: ManagedProcess, config: LiveKitServerConfig, timeout: float = 30.0) -> None:
    """The server answers `GET /` with 200 `OK` once signalling and the RTC listeners are up."""
    process.wait_http(config.http_url + "/", timeout=timeout)


@contextmanager
def running_livekit_server(
    settings: Settings,
    workdir: Path,
    timeout: float = 30.0,
    log_level: str = "info",
    tcp_fallback: bool = False,
) -> Iterator[tuple[ManagedProcess, LiveKitServerConfig]]:
    """Start the server, wait until it answers, and always stop its whole process group."""
    process, config = build_livekit_process(settings, workdir, log_level, tcp_fallback)
    process.start()
    try:
        wait_ready(process, config, timeout=timeout)
        log.info("livekit-server %s ready at %s (pid %d)", LIVEKIT_VERSION, config.url, process.pid)
        yield process, config
    finally:
        process.stop()


def livekit_server_available(settings: Settings) -> bool:
    """True when the pinned binary is installed (lets callers print a hint instead of a traceback)."""
    try:
        find_livekit_server(settings)
    except LiveKitServerError:
        return False
    return True


def host_ip() -> str | None:
    """This machine's first global IPv4 address (what a local Chrome can use for media), if any."""
    try:
        out = subprocess.run(
            ["ip", "-4", "-o", "addr", "show", "scope", "global"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        fields = line.split()
        if "inet" in fields:
            return fields[fields.index("inet") + 1].split("/")[0]
    return None
