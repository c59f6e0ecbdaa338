"""The LiveKit API secret never leaves the process: not in a response body or header, not in a log line.

`traffic_recorder` (tests/fixtures/api.py) records every response of every api this session builds (the
schemathesis run included) and every log record; its teardown fails the session on any leak. This test drives
each endpoint, success and failure, and checks the recording at that point, and shows the detector works.
"""

from __future__ import annotations

import pytest

from tests.fixtures.api import ApiHarness, Recorded, TrafficRecorder
from tests.fixtures.firebase import FirebaseEmulator

pytestmark = pytest.mark.integration


def test_detector_finds_a_planted_secret(livekit_test_secret: str) -> None:
    planted = TrafficRecorder()
    planted.responses.append(Recorded("GET", "/x", 200, [(b"x-debug", livekit_test_secret.encode())]))
    assert planted.leaks(livekit_test_secret)
    logged = TrafficRecorder()
    logged.logs.lines.append(f"INFO interviewer secret={livekit_test_secret}")
    assert logged.leaks(livekit_test_secret)


def test_no_response_or_log_contains_the_livekit_secret(
    api: ApiHarness,
    emulator_env: FirebaseEmulator,
    traffic_recorder: TrafficRecorder,
    livekit_test_secret: str,
) -> None:
    assert api.settings.livekit_secret() == livekit_test_secret  # the api under test signs with it
    uid, token = emulator_env.sign_up()
    auth = api.bearer(token)
    before = len(traffic_recorder.responses)
    created = api.client.post("/v1/interviews", json={"role": "backend-engineer"}, headers=auth)
    assert created.status_code == 201
    interview_id = created.json()["interview_id"]
    assert api.store.claim_interview(interview_id, "job-1")
    calls = [
        ("POST", "/v1/interviews", {"role": "backend-engineer"}, auth),  # 409
        ("POST", "/v1/interviews", {"role": "nope"}, auth),  # 422
        ("POST", "/v1/interviews", {"role": "backend-engineer"}, {"Authorization": "Bearer x"}),  # 401
        ("GET", "/v1/interviews", None, auth),
        ("GET", f"/v1/interviews/{interview_id}", None, auth),
        ("POST", f"/v1/interviews/{interview_id}/token", None, auth),
        ("POST", f"/v1/interviews/{interview_id}/end", None, auth),
        ("GET", "/v1/roles", None, {}),
        ("GET", "/v1/config", None, {}),
        ("GET", "/healthz", None, {}),
        ("GET", "/readyz", None, {}),
        ("GET", "/openapi.json", None, {}),
        ("GET", "/does-not-exist", None, {}),
    ]
    for method, path, body, headers in calls:
        api.client.request(method, path, json=body, headers=headers)
    recorded = traffic_recorder.responses[before:]
    assert len(recorded) == len(calls) + 1
    assert {r.status for r in recorded} >= {200, 201, 401, 404, 409, 422}
    assert traffic_recorder.logs.lines, "no log line was captured: the log check would be vacuous"
    assert any(uid in line for line in traffic_recorder.logs.lines)
    assert traffic_recorder.leaks(livekit_test_secret) == []
