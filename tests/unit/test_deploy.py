"""deploy/ checked as far as this machine allows (no container engine, no registry, no Cloud Run).

The Containerfiles are parsed by BuildKit's own parser (the `dockerfile` package wraps it) and checked for
what the images must guarantee: an exactly pinned base, a non-root user, an exec-form command that is one of
our CLI's subcommands, COPY sources that exist. The Cloud Run services are parsed as YAML and checked
against the code: secrets only by Secret Manager reference, the literal settings accepted by our settings
model, probes on endpoints we serve, the drain inside the platform's grace, the worker's concurrency equal to
its interview capacity. tests/integration/test_deploy.py starts the commands the images run.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import dockerfile
import pytest
import yaml

from interviewer.api.routes import public
from interviewer.cli import build_parser
from interviewer.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CONTAINERFILES = sorted(DEPLOY.glob("Containerfile.*"))
SERVICES = sorted(DEPLOY.glob("cloudrun-*.yaml"))
CLOUD_RUN_GRACE_SECONDS = 10  # SIGTERM → SIGKILL on Cloud Run services; fixed by the platform
# Variables that hold secrets; LIVEKIT_API_KEY is an id (it travels inside every JWT), not a secret.
SECRET_VARIABLES = {"LIVEKIT_API_SECRET", "GOOGLE_API_KEY", "DATABASE_URL"}


def _instructions(path: Path) -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(path)))


def _build_args(commands: list[dockerfile.Command]) -> dict[str, str]:
    pairs = (c.value[0].split("=", 1) for c in commands if c.cmd == "ARG" and "=" in c.value[0])
    return {name: default for name, default in pairs}


def _final_stage(commands: list[dockerfile.Command]) -> list[dockerfile.Command]:
    last_from = max(i for i, c in enumerate(commands) if c.cmd == "FROM")
    return commands[last_from:]


def _container(service: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = service["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def test_there_is_an_image_and_a_service_for_the_api_and_the_worker() -> None:
    assert [p.name for p in CONTAINERFILES] == ["Containerfile.agent", "Containerfile.api"]
    assert [p.name for p in SERVICES] == ["cloudrun-agent.yaml", "cloudrun-api.yaml"]


@pytest.mark.parametrize("path", CONTAINERFILES, ids=lambda p: p.name)
def test_every_base_image_is_pinned_to_an_exact_version(path: Path) -> None:
    commands = _instructions(path)
    args = _build_args(commands)
    bases = [c.value[0] for c in commands if c.cmd == "FROM"]
    assert bases
    for base in bases:
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base)
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?", image), image


@pytest.mark.parametrize("path", CONTAINERFILES, ids=lambda p: p.name)
def test_the_image_runs_our_cli_as_pid_1_and_not_as_root(path: Path) -> None:
    final = _final_stage(_instructions(path))
    users = [c.value[0] for c in final if c.cmd == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root"), users
    command = [c for c in final if c.cmd == "CMD"][-1]
    assert command.json, "CMD must be exec form, so SIGTERM reaches our process and not a shell"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    program, *argv = command.value
    assert program in scripts
    parsed = build_parser().parse_args(argv)
    assert parsed.command == path.name.split(".")[-1]
    assert [c.value for c in final if c.cmd == "EXPOSE"] == [("8080",)]


@pytest.mark.parametrize("path", CONTAINERFILES, ids=lambda p: p.name)
def test_everything_the_image_copies_exists_in_the_repository(path: Path) -> None:
    for command in _instructions(path):
        if command.cmd != "COPY" or any(flag.startswith("--from") for flag in command.flags):
            continue
        for source in command.value[:-1]:  # relative to the build context: the repository root
            assert (ROOT / source).exists(), f"{path.name}: COPY {source} does not exist"


@pytest.mark.parametrize("path", CONTAINERFILES, ids=lambda p: p.name)
def test_the_image_installs_the_pinned_uv_from_the_lockfile(path: Path) -> None:
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert makefile_uv
    runs = " ".join(c.value[0] for c in _instructions(path) if c.cmd == "RUN")
    assert f"uv=={makefile_uv.group(1)}" in runs
    assert "uv sync --frozen --no-dev" in runs


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_secrets_come_only_from_secret_manager(path: Path) -> None:
    env = _env(_container(yaml.safe_load(path.read_text())))
    for name in SECRET_VARIABLES & env.keys():
        assert "value" not in env[name], f"{name} is a literal"
        assert set(env[name]["valueFrom"]) == {"secretKeyRef"}, name
    assert "LIVEKIT_API_SECRET" in env and "DATABASE_URL" in env


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_the_literal_settings_are_accepted_by_the_settings_model(path: Path) -> None:
    env = _env(_container(yaml.safe_load(path.read_text())))
    literal = {name: entry["value"] for name, entry in env.items() if "value" in entry}
    secret_stand_ins = {name: "s" * 40 for name in SECRET_VARIABLES & env.keys()}
    secret_stand_ins["DATABASE_URL"] = "postgresql+psycopg://interviewer@db/interviewer"
    settings = load_settings(**literal, **secret_stand_ins, PORT=8080)
    assert settings.mode.value == "production"
    assert settings.listen_address("127.0.0.1", 1) == ("0.0.0.0", 8080)


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_probes_point_at_health_endpoints_on_the_served_port(path: Path) -> None:
    container = _container(yaml.safe_load(path.read_text()))
    port = container["ports"][0]["containerPort"]
    api_paths = {route.path for route in public.routes}  # type: ignore[attr-defined]
    for probe in ("startupProbe", "livenessProbe"):
        http = container[probe]["httpGet"]
        assert http["port"] == port == 8080
        # Liveness, never readiness: a worker reconnecting to LiveKit or loading models must not be killed.
        assert http["path"] == "/healthz"
    if path.name == "cloudrun-api.yaml":
        assert "/healthz" in api_paths and "/readyz" in api_paths


def test_the_worker_drains_inside_the_platform_grace_and_never_scales_to_zero() -> None:
    service = yaml.safe_load((DEPLOY / "cloudrun-agent.yaml").read_text())
    template = service["spec"]["template"]
    env = _env(_container(service))
    drain = int(env["DRAIN_TIMEOUT_SECONDS"]["value"])
    assert drain < CLOUD_RUN_GRACE_SECONDS
    assert int(template["metadata"]["annotations"]["autoscaling.knative.dev/minScale"]) >= 1
    assert template["metadata"]["annotations"]["run.googleapis.com/cpu-throttling"] == "false"
    capacity = int(env["MAX_INTERVIEWS_PER_WORKER"]["value"])
    assert template["spec"]["containerConcurrency"] == capacity
