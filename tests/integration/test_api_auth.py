"""Who may not get a credential, against the real Firebase Auth emulator: every rejection is a 401 problem
document and leaves no interview row behind.

The emulator path covers the header, project mismatch, disabled, revoked and deleted users. Signature and
expiry are NOT checked by firebase-admin in emulator mode; those cases run through the production
verification path in test_api_signatures.py.
"""

from __future__ import annotations

import pytest

from tests.fixtures.api import ApiHarness, MakeApi
from tests.fixtures.firebase import FirebaseEmulator, jwt_claims

pytestmark = pytest.mark.integration

BODY = {"role": "backend-engineer"}


def _assert_unauthorized(harness: ApiHarness, headers: dict[str, str]) -> dict[str, object]:
    response = harness.client.post("/v1/interviews", json=BODY, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    problem = dict(response.json())
    assert (
        problem["status"] == 401
        and problem["title"] == "Unauthorized"
        and problem["type"].endswith("unauthorized")
    )
    assert harness.interview_count() == 0
    return problem


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer " + "x" * 9000},
    ],
    ids=["missing", "empty-bearer", "blank-bearer", "garbage", "bad-segments", "basic", "oversized"],
)
def test_bad_headers_are_401(api: ApiHarness, headers: dict[str, str]) -> None:
    _assert_unauthorized(api, headers)
    # Reads are protected the same way.
    assert api.client.get("/v1/interviews", headers=headers).status_code == 401


def test_token_from_another_project_is_401(make_api: MakeApi, emulator_env: FirebaseEmulator) -> None:
    _uid, token = emulator_env.sign_up()
    assert jwt_claims(token)["aud"] == emulator_env.project_id
    other = make_api(FIREBASE_PROJECT_ID="demo-some-other-project")
    _assert_unauthorized(other, other.bearer(token))
    # The same token is fine for the project it was issued for (the rejection is about the project).
    same = make_api()
    assert same.client.get("/v1/interviews", headers=same.bearer(token)).status_code == 200


def test_disabled_user_is_401(make_api: MakeApi, emulator_env: FirebaseEmulator) -> None:
    harness = make_api(FIREBASE_CHECK_REVOKED=True)
    uid, token = emulator_env.sign_up()
    assert harness.client.get("/v1/interviews", headers=harness.bearer(token)).status_code == 200
    emulator_env.disable_user(uid)
    problem = _assert_unauthorized(harness, harness.bearer(token))
    assert problem["detail"] == "user disabled"


def test_revoked_token_is_401_when_revocation_is_checked(
    make_api: MakeApi, emulator_env: FirebaseEmulator
) -> None:
    checking = make_api(FIREBASE_CHECK_REVOKED=True)
    uid, token = emulator_env.sign_up()
    assert checking.client.get("/v1/interviews", headers=checking.bearer(token)).status_code == 200
    emulator_env.revoke_tokens_issued_before(uid, int(jwt_claims(token)["iat"]) + 1)
    problem = _assert_unauthorized(checking, checking.bearer(token))
    assert problem["detail"] == "revoked ID token"
    # Without the check (the default), an unexpired token stays valid until it expires: Firebase semantics.
    lenient = make_api()
    assert lenient.client.get("/v1/interviews", headers=lenient.bearer(token)).status_code == 200


def test_deleted_user_is_401_when_revocation_is_checked(
    make_api: MakeApi, emulator_env: FirebaseEmulator
) -> None:
    harness = make_api(FIREBASE_CHECK_REVOKED=True)
    uid, token = emulator_env.sign_up()
    emulator_env.delete_user(uid)
    _assert_unauthorized(harness, harness.bearer(token))


def test_anonymous_sign_in_is_accepted(api: ApiHarness, emulator_env: FirebaseEmulator) -> None:
    _uid, token = emulator_env.sign_in_anonymously()
    response = api.client.post("/v1/interviews", json=BODY, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    assert api.interview_count() == 1
