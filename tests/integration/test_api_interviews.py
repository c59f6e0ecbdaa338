"""The token service end to end against the real Firebase Auth emulator: sign-up → ID token → LiveKit token.

The LiveKit token is decoded with livekit-api's own `TokenVerifier` (signature checked with the secret the
api was given), so these assertions are about the JWT the candidate's browser really receives.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from livekit import api as lkapi

from interviewer.agent.resume import resume_runtime
from interviewer.store import InterviewStatus
from tests.fixtures.api import ApiHarness, MakeApi
from tests.fixtures.firebase import FirebaseEmulator

pytestmark = pytest.mark.integration


def _claims(harness: ApiHarness, token: str) -> lkapi.Claims:
    settings = harness.settings
    return lkapi.TokenVerifier(settings.livekit_api_key, settings.livekit_secret()).verify(token)


def _start(harness: ApiHarness, token: str, **body: object) -> dict[str, object]:
    response = harness.client.post(
        "/v1/interviews", json={"role": "backend-engineer", **body}, headers=harness.bearer(token)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_sign_up_to_livekit_token(api: ApiHarness, emulator_env: FirebaseEmulator) -> None:
    uid, id_token = emulator_env.sign_up(display_name="Ada Lovelace")
    started = time.time()
    body = _start(api, id_token, duration_minutes=15)

    token = str(body["participant_token"])
    claims = _claims(api, token)
    assert claims.identity == uid
    assert claims.name == "Ada Lovelace"
    assert claims.video is not None
    assert claims.video.room_join is True
    assert claims.video.room == body["room"]
    assert claims.video.can_publish_sources == ["microphone"]
    assert claims.video.can_publish_data is False
    assert not (claims.video.room_admin or claims.video.room_list or claims.video.room_record)
    assert not claims.video.room_create
    assert claims.room_config is not None
    assert len(claims.room_config.agents) == 1
    dispatch = claims.room_config.agents[0]
    assert dispatch.agent_name == "interviewer"
    assert json.loads(dispatch.metadata) == {
        "interview_id": body["interview_id"],
        "role": "backend-engineer",
        "candidate_uid": uid,
    }
    assert claims.room_config.empty_timeout == api.settings.room_empty_timeout_seconds
    assert claims.room_config.departure_timeout == api.settings.room_departure_timeout_seconds

    # TokenVerifier's Claims hide nbf/exp: read them from the same JWT, signature checked again.
    times = jwt.decode(token, api.settings.livekit_secret(), algorithms=["HS256"], issuer="devkey")
    assert times["exp"] - times["nbf"] <= 600
    assert abs(times["nbf"] - started) < 5
    assert body["livekit_url"] == api.settings.livekit_url

    # ≥128 bits of randomness: 24 random bytes, url-safe base64 after the prefix.
    room = str(body["room"])
    assert room.startswith("iv-") and len(room) - 3 >= 32

    interview = api.store.get_interview(str(body["interview_id"]))
    assert interview is not None
    assert interview.candidate_uid == uid and interview.room == room
    assert interview.status is InterviewStatus.created and interview.duration_minutes == 15
    assert interview.plan["id"] == "backend-engineer"


def test_each_interview_gets_a_fresh_room(api: ApiHarness, emulator_env: FirebaseEmulator) -> None:
    rooms = set()
    for _ in range(3):
        _uid, token = emulator_env.sign_in_anonymously()
        rooms.add(_start(api, token)["room"])
    assert len(rooms) == 3


def test_one_active_interview_then_end_and_status(api: ApiHarness, emulator_env: FirebaseEmulator) -> None:
    _uid, token = emulator_env.sign_up()
    first = _start(api, token)
    again = api.client.post("/v1/interviews", json={"role": "product-manager"}, headers=api.bearer(token))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["active_interview_id"] == first["interview_id"]
    assert api.interview_count() == 1

    listed = api.client.get("/v1/interviews", headers=api.bearer(token)).json()["interviews"]
    assert [i["interview_id"] for i in listed] == [first["interview_id"]]
    assert set(listed[0]) >= {"interview_id", "role", "status", "created_at", "duration_minutes"}

    status = api.client.get(f"/v1/interviews/{first['interview_id']}", headers=api.bearer(token))
    assert status.status_code == 200
    assert status.json()["status"] == "created" and status.json()["report"] is None

    ended = api.client.post(f"/v1/interviews/{first['interview_id']}/end", headers=api.bearer(token))
    assert ended.json() == {"interview_id": first["interview_id"], "status": "abandoned"}
    # Idempotent, and a new one may start now.
    again_end = api.client.post(f"/v1/interviews/{first['interview_id']}/end", headers=api.bearer(token))
    assert again_end.json()["status"] == "abandoned"
    second = _start(api, token)
    assert second["interview_id"] != first["interview_id"]


def test_rejoin_has_no_second_dispatch(api: ApiHarness, emulator_env: FirebaseEmulator) -> None:
    uid, token = emulator_env.sign_up()
    body = _start(api, token)
    interview_id = str(body["interview_id"])
    # Not live yet (no agent has claimed it): nothing to rejoin.
    early = api.client.post(f"/v1/interviews/{interview_id}/token", headers=api.bearer(token))
    assert early.status_code == 409, early.text

    assert api.store.claim_interview(interview_id, "job-1")  # what the agent does when it starts
    rejoin = api.client.post(f"/v1/interviews/{interview_id}/token", headers=api.bearer(token))
    assert rejoin.status_code == 200, rejoin.text
    claims = _claims(api, rejoin.json()["participant_token"])
    assert claims.identity == uid
    assert claims.video is not None and claims.video.room == body["room"]
    assert claims.video.can_publish_sources == ["microphone"]
    assert claims.room_config is None or len(claims.room_config.agents) == 0
    assert rejoin.json()["participant_token"] != body["participant_token"]


def test_report_is_returned_when_finished(api: ApiHarness, emulator_env: FirebaseEmulator) -> None:
    _uid, token = emulator_env.sign_up()
    interview_id = str(_start(api, token)["interview_id"])
    assert api.store.claim_interview(interview_id, "job-1")
    interview = api.store.get_interview(interview_id)
    assert interview is not None
    resume_runtime(api.store, interview).finish("done")  # what the agent does at the end
    stored = api.store.get_report(interview_id)
    assert stored is not None
    body = api.client.get(f"/v1/interviews/{interview_id}", headers=api.bearer(token)).json()
    assert body["status"] == "finished"
    assert body["report"] == stored.report


def test_job_description_builds_a_custom_plan(api: ApiHarness, emulator_env: FirebaseEmulator) -> None:
    _uid, token = emulator_env.sign_up()
    body = _start(api, token, role="custom", job_description="Senior Python engineer: APIs, SQL, on-call")
    interview = api.store.get_interview(str(body["interview_id"]))
    assert interview is not None and interview.role == "custom"
    metadata = _claims(api, str(body["participant_token"])).room_config
    assert metadata is not None and json.loads(metadata.agents[0].metadata)["role"] == "custom"


def test_other_users_interview_is_not_found(api: ApiHarness, emulator_env: FirebaseEmulator) -> None:
    _owner, owner_token = emulator_env.sign_up()
    _other, other_token = emulator_env.sign_up()
    interview_id = _start(api, owner_token)["interview_id"]
    assert api.store.claim_interview(str(interview_id), "job-1")
    for method, path in [
        ("GET", f"/v1/interviews/{interview_id}"),
        ("POST", f"/v1/interviews/{interview_id}/token"),
        ("POST", f"/v1/interviews/{interview_id}/end"),
    ]:
        response = api.client.request(method, path, headers=api.bearer(other_token))
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert api.client.get("/v1/interviews", headers=api.bearer(other_token)).json() == {"interviews": []}
    interview = api.store.get_interview(str(interview_id))
    assert interview is not None and interview.status is InterviewStatus.live


def test_public_endpoints(api: ApiHarness, emulator_env: FirebaseEmulator) -> None:
    roles = api.client.get("/v1/roles").json()["roles"]
    assert {r["id"] for r in roles} >= {"backend-engineer", "product-manager"}
    assert all(r["competencies"] and set(r["competencies"][0]) == {"id", "name"} for r in roles)
    config = api.client.get("/v1/config").json()
    assert config == {
        "firebase": {
            "apiKey": "demo-api-key",
            "authDomain": "demo-interviewer.firebaseapp.com",
            "projectId": "demo-interviewer",
            "emulatorUrl": f"http://{emulator_env.host}",
        },
        "agentJoinTimeoutSeconds": 20,
    }
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"store": "ok", "identity": "ok"}


def test_serves_the_built_web_client_after_the_api(
    make_api: MakeApi, emulator_env: FirebaseEmulator, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Interviewer</title>")
    (dist / "assets" / "app.js").write_text("console.log('hi')")
    harness = make_api(WEB_DIST_DIR=dist)
    page = harness.client.get("/")
    assert page.status_code == 200 and "<title>Interviewer</title>" in page.text
    assert harness.client.get("/assets/app.js").status_code == 200
    # API routes win over the static mount.
    assert harness.client.get("/healthz").json() == {"status": "ok"}
    assert harness.client.get("/openapi.json").json()["info"]["title"] == "Interviewer API"
    assert harness.client.get("/v1/interviews").status_code == 401
    missing = harness.client.get("/nope.js")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
