"""Abuse limits and strictness: 422 naming the field, 413, 429 with Retry-After, readiness, and the refusal to
start with the Auth emulator outside development/test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from interviewer.procs import free_port
from tests.fixtures.api import ApiHarness, MakeApi
from tests.fixtures.firebase import FirebaseEmulator
from tests.fixtures.redis import RedisServer

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "backend-engineer", "extra": 1}, "extra"),
        ({}, "role"),
        ({"role": "Backend Engineer!"}, "role"),
        ({"role": "backend-engineer", "duration_minutes": 500}, "duration_minutes"),
        ({"role": "backend-engineer", "duration_minutes": "long"}, "duration_minutes"),
        ({"role": "backend-engineer", "job_description": ""}, "job_description"),
        ({"role": "no-such-role"}, "role"),
        ({"role": "custom"}, "job_description"),
    ],
    ids=[
        "unknown-field",
        "missing",
        "pattern",
        "too-long",
        "type",
        "empty-jd",
        "unknown-role",
        "custom-no-jd",
    ],
)
def test_invalid_bodies_are_422_naming_the_field(
    api: ApiHarness, emulator_env: FirebaseEmulator, body: dict[str, object], field: str
) -> None:
    _uid, token = emulator_env.sign_in_anonymously()
    response = api.client.post("/v1/interviews", json=body, headers=api.bearer(token))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert field in [e["field"] for e in problem["errors"]], problem
    assert field in problem["detail"]
    assert api.interview_count() == 0


def test_malformed_json_is_422(api: ApiHarness, emulator_env: FirebaseEmulator) -> None:
    _uid, token = emulator_env.sign_in_anonymously()
    headers = {**api.bearer(token), "Content-Type": "application/json"}
    response = api.client.post("/v1/interviews", content=b'{"role": ', headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_oversized_bodies_are_413(api: ApiHarness, emulator_env: FirebaseEmulator) -> None:
    _uid, token = emulator_env.sign_in_anonymously()
    big = b'{"role": "custom", "job_description": "' + b"x" * (api.settings.max_body_bytes + 10) + b'"}'
    headers = {**api.bearer(token), "Content-Type": "application/json"}
    declared = api.client.post("/v1/interviews", content=big, headers=headers)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must count the stream
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    streamed = api.client.post("/v1/interviews", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    assert api.interview_count() == 0


def test_rate_limit_per_uid_is_429_with_retry_after(
    make_api: MakeApi, emulator_env: FirebaseEmulator
) -> None:
    harness = make_api(RATE_LIMIT_PER_MINUTE=3)
    _uid, token = emulator_env.sign_up()
    _other, other_token = emulator_env.sign_up()
    statuses = [
        harness.client.post("/v1/interviews/iv_missing/end", headers=harness.bearer(token)).status_code
        for _ in range(4)
    ]
    assert statuses == [404, 404, 404, 429]
    limited = harness.client.post("/v1/interviews/iv_missing/end", headers=harness.bearer(token))
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["retry_after"] == int(limited.headers["retry-after"])
    # Per uid: another candidate is not affected, and creating is limited by the same write budget.
    assert (
        harness.client.post("/v1/interviews/iv_missing/end", headers=harness.bearer(other_token)).status_code
        == 404
    )
    created = harness.client.post(
        "/v1/interviews", json={"role": "data-scientist"}, headers=harness.bearer(token)
    )
    assert created.status_code == 429
    assert harness.interview_count() == 0


def test_readyz_is_503_when_the_identity_provider_is_down(
    make_api: MakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", dead)
    harness = make_api()
    response = harness.client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["checks"] == {"store": "ok", "identity": "unreachable"}
    assert harness.client.get("/healthz").status_code == 200


def _run_api(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("INTERVIEWER_", "FIREBASE_", "LIVEKIT_"))
    }
    clean.update(env, API_PORT=str(free_port()), INTERVIEWER_DATA_DIR=str(tmp_path))
    return subprocess.run(
        [sys.executable, "-m", "interviewer.api"],
        env=clean,
        cwd=tmp_path,  # no .env from the repo
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )


@pytest.mark.parametrize("mode", ["production", None], ids=["explicit-production", "default-mode"])
def test_api_refuses_to_start_with_the_emulator_in_production(tmp_path: Path, mode: str | None) -> None:
    env = {"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099", "LIVEKIT_API_SECRET": "s" * 40}
    if mode:
        env["INTERVIEWER_MODE"] = mode
    result = _run_api(tmp_path, **env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "refusing to start" in result.stderr
    assert "FIREBASE_AUTH_EMULATOR_HOST" in result.stderr
    assert "s" * 40 not in result.stderr + result.stdout


def test_api_instances_sharing_redis_share_one_budget_per_uid(
    make_api: MakeApi, emulator_env: FirebaseEmulator, redis_server: RedisServer
) -> None:
    first = make_api(RATE_LIMIT_PER_MINUTE=3, REDIS_URL=redis_server.url)
    second = make_api(RATE_LIMIT_PER_MINUTE=3, REDIS_URL=redis_server.url)
    _uid, token = emulator_env.sign_up()
    _other, other_token = emulator_env.sign_up()

    def end(harness: ApiHarness, bearer: str) -> int:
        response = harness.client.post("/v1/interviews/iv_missing/end", headers=harness.bearer(bearer))
        return response.status_code

    # Alternating instances: each alone would still allow its second request; together the third is the last.
    assert [end(first, token), end(second, token), end(first, token), end(second, token)] == [
        404,
        404,
        404,
        429,
    ]
    limited = first.client.post("/v1/interviews/iv_missing/end", headers=first.bearer(token))
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert end(second, other_token) == 404  # still per uid
    # Reads have their own, larger budget in the same Redis.
    assert first.client.get("/v1/interviews", headers=first.bearer(token)).status_code == 200


def test_an_unreachable_redis_lets_requests_through(
    make_api: MakeApi, emulator_env: FirebaseEmulator
) -> None:
    # The limit guards against runaway clients; losing Redis must not stop every candidate.
    harness = make_api(RATE_LIMIT_PER_MINUTE=1, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    _uid, token = emulator_env.sign_up()
    statuses = [
        harness.client.post("/v1/interviews/iv_missing/end", headers=harness.bearer(token)).status_code
        for _ in range(3)
    ]
    assert statuses == [404, 404, 404]
