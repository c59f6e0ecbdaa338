"""What the container images run, run here: no container engine exists on this machine, so each image's
command is started from the project's own virtualenv the way the platform would start it (the console
script, `$PORT` set, SIGTERM to stop), and the agent image's model-baking build step is executed as written.
The static checks of deploy/ are in tests/unit/test_deploy.py."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import dockerfile
import httpx
import pytest

from interviewer.procs import ManagedProcess, free_port, group_alive

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).parent / "interviewer"


def _platform_env(tmp_path: Path, port: int) -> dict[str, str]:
    """What Cloud Run gives the container, but on loopback and in test mode (no real secrets here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "FIREBASE_", "PORT"))}
    closed = free_port()  # nothing listens here: the worker cannot register, which is what /readyz must say
    env.update(
        PORT=str(port),
        PLATFORM_HOST="127.0.0.1",
        INTERVIEWER_MODE="test",
        INTERVIEWER_DATA_DIR=str(tmp_path / "data"),
        LIVEKIT_URL=f"ws://127.0.0.1:{closed}",
        API_PORT=str(free_port()),  # $PORT must win over it
        AGENT_HEALTH_PORT=str(free_port()),
        DRAIN_TIMEOUT_SECONDS="5",
    )
    return env


def _stop_with_sigterm(process: ManagedProcess, timeout: float) -> int | None:
    pgid = process.pgid
    os.kill(process.pid, signal.SIGTERM)  # the platform signals PID 1 only, not a group
    assert process.proc is not None
    code = process.proc.wait(timeout)
    process.stop(timeout=5)
    assert not group_alive(pgid), f"{process.name} left processes behind"
    return code


def _image_command(subcommand: str, tmp_path: Path) -> tuple[ManagedProcess, str]:
    """`interviewer <subcommand>` as the image's CMD runs it, and the base URL of the port it must serve."""
    port = free_port()
    process = ManagedProcess(
        f"{subcommand}-image-cmd",
        [str(CONSOLE_SCRIPT), subcommand],
        env=_platform_env(tmp_path, port),
        log_path=tmp_path / f"{subcommand}.log",
    )
    return process, f"http://127.0.0.1:{port}"


def test_the_agent_image_command_serves_health_on_port_before_it_can_register(tmp_path: Path) -> None:
    worker, url = _image_command("agent", tmp_path)
    with worker:
        worker.wait_http(f"{url}/healthz", timeout=60)
        ready = httpx.get(f"{url}/readyz", timeout=2)
        assert ready.status_code == 503
        assert ready.json()["state"] in ("starting", "connecting")
        assert _stop_with_sigterm(worker, timeout=30) == 0, worker.log_tail()


def test_the_api_image_command_serves_on_port(tmp_path: Path) -> None:
    api, url = _image_command("api", tmp_path)
    with api:
        api.wait_http(f"{url}/healthz", timeout=60)
        code = _stop_with_sigterm(api, timeout=15)
        # uvicorn finishes its shutdown, then re-raises the signal it caught: death by SIGTERM, after a clean
        # shutdown, is how it reports having been stopped.
        assert code in (0, -signal.SIGTERM), api.log_tail()
        assert "Application shutdown complete" in api.log_tail(), api.log_tail()


def test_the_agent_image_build_step_that_bakes_the_models_runs(tmp_path: Path) -> None:
    commands = dockerfile.parse_file(str(ROOT / "deploy" / "Containerfile.agent"))
    bake = next(c.value[0] for c in commands if c.cmd == "RUN" and "prewarm_speech" in c.value[0])
    match = re.search(r'INTERVIEWER_MODE=test /app/\.venv/bin/python -c "([^"]+)"', bake)
    assert match, bake
    env = {**os.environ, "INTERVIEWER_MODE": "test", "INTERVIEWER_DATA_DIR": str(tmp_path)}
    env["HF_HUB_OFFLINE"] = "1"  # as in the image: nothing may be downloaded
    done = subprocess.run(
        [sys.executable, "-c", match.group(1)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
