"""The web client in headless Chromium against the real stack: `tests/e2e/web.e2e.mjs`, run by pytest.

What runs, all real, nothing mocked (the harness's `page.route` 409/429/busy answers aside):
- the Firebase Auth emulator (session fixture `firebase_emulator`);
- stack A: livekit-server + api (serving `web/dist`) + one agent worker (offline voice: Piper, Whisper, the
  deterministic interviewer) — the happy path, 360 px layout, microphone denied, 409, 429 and busy (a 503
  answered once, then the automatic retry reaches this api);
- stack B: its own livekit-server + api with `AGENT_JOIN_TIMEOUT_SECONDS=5` and no worker registered on that
  server — the agent-did-not-join path.

Every process listens on 127.0.0.1 except the two livekit-servers' media (one UDP port each), which are also
offered on this host's global IPv4 address: Chromium never uses loopback ICE candidates, so without it the
browser finds no candidate pair (see /work/shared/LOCAL-INFRA.md and `livekit_server.server_config_dict`).
Signalling stays on loopback.

Every wait is a condition with a deadline; every process is stopped as a process group and checked gone.
Chromium runs in its own process group (playwright-core launches it detached), so it is found by a marker in
its environment and checked gone too. Output and screenshots: test-artifacts/e2e/ (gitignored).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from interviewer.livekit_server import host_ip
from interviewer.procs import ManagedProcess, pids_in_group
from tests.fixtures.firebase import FirebaseEmulator
from tests.fixtures.livekit import start_livekit, stop_checked
from tests.fixtures.stack import stack_env, start_api, start_worker

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(330)]

REPO = Path(__file__).resolve().parents[2]
HARNESS = REPO / "tests" / "e2e" / "web.e2e.mjs"
WEB_DIST = REPO / "web" / "dist"
PLAYWRIGHT = REPO / "web" / "node_modules" / "playwright-core"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "test-artifacts" / "e2e"
HARNESS_TIMEOUT = 210.0
# Words of the harness's espeak-ng answer that Whisper tiny reliably gets right through Chrome's capture.
EXPECT_WORDS = "pipeline,latency"
NO_AGENT_JOIN_TIMEOUT = 5
RUN_MARKER = "INTERVIEWER_E2E_RUN"


@dataclass
class BrowserStacks:
    url: str
    no_agent_url: str
    logs: list[Path] = field(default_factory=list)


def _require(path: Path, hint: str) -> None:
    # A missing piece is a broken setup, not a reason to skip: `make test` installs and builds all of them.
    if not path.exists():
        pytest.fail(f"{path} is missing: {hint}", pytrace=False)


@pytest.fixture(scope="module")
def browser_stacks(
    firebase_emulator: FirebaseEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserStacks]:
    _require(CHROMIUM, "install Debian's chromium (make system-deps)")
    _require(WEB_DIST / "index.html", "build the web client (make web)")
    _require(PLAYWRIGHT, "install the web client's dependencies (cd web && npm ci)")
    browser_ip = host_ip()
    if browser_ip is None:
        pytest.fail("no global IPv4 address: Chromium cannot reach livekit-server's media", pytrace=False)
    workdir = tmp_path_factory.mktemp("web-e2e")
    started: list[ManagedProcess] = []
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="start-worker")
    try:
        # Stack A: with the agent. The worker loads its models while the rest starts (it needs only livekit).
        livekit = start_livekit(workdir / "livekit", browser_ip=browser_ip)
        started.append(livekit.process)
        env = {**stack_env(livekit, firebase_emulator, workdir), "WEB_DIST_DIR": str(WEB_DIST)}
        worker_started = pool.submit(start_worker, env, workdir)
        try:
            api, url = start_api(env, workdir)
            started.append(api)
            # Stack B: no worker ever registers with this livekit-server, so no agent joins.
            lonely = workdir / "no-agent"
            lonely.mkdir()
            livekit_b = start_livekit(lonely / "livekit", browser_ip=browser_ip)
            started.append(livekit_b.process)
            env_b = {
                **stack_env(livekit_b, firebase_emulator, lonely),
                "WEB_DIST_DIR": str(WEB_DIST),
                "AGENT_JOIN_TIMEOUT_SECONDS": str(NO_AGENT_JOIN_TIMEOUT),
            }
            api_b, url_b = start_api(env_b, lonely)
            started.append(api_b)
        finally:
            # Always collect the worker (start_worker bounds its wait and stops it on failure) so that
            # teardown stops it whatever else failed.
            worker, _health = worker_started.result()
            started.append(worker)
        _assert_loopback_only(started, {livekit.config.rtc_udp_port, livekit_b.config.rtc_udp_port})
        logs = [p.log_path for p in started if p.log_path is not None]
        yield BrowserStacks(url=url, no_agent_url=url_b, logs=logs)
    finally:
        pool.shutdown()
        for process in reversed(started):
            stop_checked(process, timeout=40 if process.name == "agent-worker" else 10)


LOOPBACK_HEX = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1 as /proc/net prints them


def _server_sockets(pgid: int) -> set[tuple[str, str, int]]:
    """(protocol, hex address, port) of every listening TCP and bound UDP socket in a process group."""
    found: set[tuple[str, str, int]] = set()
    for pid in pids_in_group(pgid):
        inodes = set()
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(target[len("socket:[") : -1])
        for proto in ("tcp", "tcp6", "udp", "udp6"):
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]:
                    fields = line.split()
                    if fields[9] in inodes and fields[3] in ("0A", "07"):  # TCP LISTEN, UDP bound
                        address, port = fields[1].split(":")
                        found.add((proto, address, int(port, 16)))
    return found


def _assert_loopback_only(processes: list[ManagedProcess], media_ports: set[int]) -> None:
    """Every server socket is on loopback, except livekit-server's one media UDP port per server."""
    for process in processes:
        media = media_ports if process.name == "livekit-server" else set()
        exposed = {
            (proto, address, port)
            for proto, address, port in _server_sockets(process.pgid)
            if address not in LOOPBACK_HEX and not (proto.startswith("udp") and port in media)
        }
        assert not exposed, f"{process.name} listens beyond loopback: {sorted(exposed)}"


def _marked_pids(marker: str) -> list[int]:
    """Processes whose environment carries `RUN_MARKER=marker` (node, Chromium and all its helpers)."""
    needle = f"{RUN_MARKER}={marker}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X") and needle in environ.split(b"\0"):
            found.append(int(entry))
    return found


def _kill_marked(marker: str, timeout: float = 10.0) -> list[int]:
    """SIGKILL whatever of this run is left; returns what was found (should be nothing)."""
    left = _marked_pids(marker)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while _marked_pids(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"({error})"


def test_web_client_in_chromium(browser_stacks: BrowserStacks) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "web.e2e.log"
    log_path.unlink(missing_ok=True)
    marker = secrets.token_hex(8)
    env = {
        **os.environ,
        "INTERVIEWER_URL": browser_stacks.url,
        "INTERVIEWER_NO_AGENT_URL": browser_stacks.no_agent_url,
        "E2E_EXPECT_WORDS": EXPECT_WORDS,
        "E2E_ARTIFACTS": str(ARTIFACTS),
        "CHROMIUM": str(CHROMIUM),
        RUN_MARKER: marker,
    }
    harness = ManagedProcess("web-e2e", ["node", str(HARNESS)], env=env, cwd=REPO, log_path=log_path).start()
    code: int | None = None
    try:
        with contextlib.suppress(subprocess.TimeoutExpired):
            assert harness.proc is not None
            code = harness.proc.wait(timeout=HARNESS_TIMEOUT)
    finally:
        stop_checked(harness, timeout=15)
        leftovers = _kill_marked(marker)
    output = log_path.read_text(errors="replace")
    print(output)  # shown by pytest on failure (and with -s)
    assert not leftovers, f"browser processes outlived the harness: {leftovers}"
    if code != 0:
        tails = "\n".join(
            f"--- {path.parent.name}/{path.name} (last lines)\n{_tail(path)}" for path in browser_stacks.logs
        )
        what = "timed out" if code is None else f"exited {code}"
        pytest.fail(f"web.e2e.mjs {what}; screenshots in {ARTIFACTS}\n{output}\n{tails}", pytrace=False)
