"""The Firebase Auth emulator (npm `firebase-tools`, pinned in tools/firebase): build, start, wait, stop.

The supervisor (`interviewer up`) and the test fixtures start it the same way: `node <cli> emulators:start
--only auth` with a generated `firebase.json` in a private directory, every port on 127.0.0.1. It is
launched with `node` directly (not `npx`), so the process we hold is the emulator's and its process group is
stopped as a whole. It needs no network and no Java.

Never point a production api at it: emulator ID tokens are unsigned and firebase-admin accepts them without a
signature or expiry check while `FIREBASE_AUTH_EMULATOR_HOST` is set (see `interviewer.auth.firebase`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from interviewer.procs import ManagedProcess, free_port

LOOPBACK = "127.0.0.1"
DEFAULT_PROJECT_ID = "demo-interviewer"


class AuthEmulatorError(RuntimeError):
    """The Firebase CLI is missing or the emulator did not come up."""


def default_cli_path() -> Path:
    """Where `make firebase-tools` installs the pinned CLI (the repo's tools/firebase, `npm ci`)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "tools" / "firebase" / "node_modules" / ".bin" / "firebase"
        if candidate.exists():
            return candidate
    return Path.cwd() / "tools" / "firebase" / "node_modules" / ".bin" / "firebase"


def find_firebase_cli(path: Path | None = None) -> Path:
    cli = path or default_cli_path()
    if not cli.exists():
        raise AuthEmulatorError(f"firebase CLI not found at {cli}: run `make firebase-tools`")
    if shutil.which("node") is None:
        raise AuthEmulatorError("`node` is not on PATH: the Firebase Auth emulator needs Node.js")
    return cli.resolve()


@dataclass(frozen=True)
class AuthEmulatorConfig:
    project_id: str
    port: int
    workdir: Path

    @property
    def host(self) -> str:
        """The value for FIREBASE_AUTH_EMULATOR_HOST: host:port, no scheme."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def identity_toolkit(self) -> str:
        return f"{self.url}/identitytoolkit.googleapis.com/v1"


def write_firebase_json(workdir: Path, port: int) -> Path:
    config = {
        "emulators": {
            "auth": {"host": LOOPBACK, "port": port},
            "hub": {"host": LOOPBACK, "port": free_port()},
            "logging": {"host": LOOPBACK, "port": free_port()},
            "ui": {"enabled": False},
            "singleProjectMode": True,
        }
    }
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "firebase.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def build_auth_emulator(
    workdir: Path,
    *,
    project_id: str = DEFAULT_PROJECT_ID,
    port: int | None = None,
    cli: Path | None = None,
) -> tuple[ManagedProcess, AuthEmulatorConfig]:
    """A not-yet-started `ManagedProcess` for the emulator, and where it will listen."""
    if not project_id.startswith("demo-"):
        # A demo-* project id makes the CLI stay offline and never touch a real Firebase project.
        raise AuthEmulatorError(f"emulator project id must start with 'demo-', got {project_id!r}")
    cli_path = find_firebase_cli(cli)
    port = port or free_port()
    write_firebase_json(workdir, port)
    env = dict(os.environ)
    env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
    env.update({"NO_UPDATE_NOTIFIER": "1", "CI": "1", "FIREBASE_CLI_DISABLE_UPDATE_CHECK": "true"})
    # The emulator hub writes a locator file named after the project into os.tmpdir() and reads any
    # it finds there unguarded (one emulator starting while another writes it fails on half a file): every
    # emulator of the project (one per test worker, `up` beside them) keeps its own in its workdir.
    env["TMPDIR"] = str(workdir.resolve())
    process = ManagedProcess(
        name="firebase-auth-emulator",
        argv=["node", str(cli_path), "emulators:start", "--only", "auth", "--project", project_id],
        env=env,
        cwd=workdir,
        log_path=workdir / "emulator.log",
    )
    return process, AuthEmulatorConfig(project_id=project_id, port=port, workdir=workdir)


def emulator_ready(config: AuthEmulatorConfig) -> bool:
    try:
        response = httpx.get(f"{config.url}/", timeout=0.5)
    except httpx.HTTPError:
        return False
    if response.status_code != 200:
        return False
    try:
        return bool(response.json().get("authEmulator", {}).get("ready"))
    except ValueError:
        return False


def wait_ready(process: ManagedProcess, config: AuthEmulatorConfig, timeout: float = 60.0) -> None:
    process.wait_until(lambda: emulator_ready(config), timeout, f"answering on {config.url}")


@contextmanager
def running_auth_emulator(
    workdir: Path, *, project_id: str = DEFAULT_PROJECT_ID, timeout: float = 60.0
) -> Iterator[AuthEmulatorConfig]:
    """Start the emulator, wait until it answers, always stop its whole process group."""
    process, config = build_auth_emulator(workdir, project_id=project_id)
    process.start()
    try:
        wait_ready(process, config, timeout)
        yield config
    finally:
        process.stop(timeout=10, signum=2)
