"""While its database restarts the api answers 503 `unavailable` with a short Retry-After (a problem the
web app retries on its own), never a 500, and takes the same request once the database is back: the real
app, the Auth emulator and a real PostgreSQL of the test's own."""

from __future__ import annotations

import pytest

from interviewer.api.problems import STORE_RETRY_AFTER_SECONDS
from interviewer.datastores import stop_postgres
from tests.fixtures.api import MakeApi
from tests.fixtures.firebase import FirebaseEmulator
from tests.fixtures.postgres import OwnPostgres

pytestmark = pytest.mark.integration


def test_a_database_restart_is_a_503_to_retry_shortly_not_an_error(
    make_api: MakeApi, emulator_env: FirebaseEmulator, own_postgres: OwnPostgres
) -> None:
    harness = make_api(DATABASE_URL=own_postgres.config.url)
    _uid, token = emulator_env.sign_up(display_name="Grace Hopper")
    request = {"role": "backend-engineer"}

    assert stop_postgres(own_postgres.process) is not None
    refused = harness.client.post("/v1/interviews", json=request, headers=harness.bearer(token))
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["Retry-After"] == str(STORE_RETRY_AFTER_SECONDS)
    problem = refused.json()
    assert problem["type"].endswith(":unavailable") and problem["retry_after"] == STORE_RETRY_AFTER_SECONDS
    assert "postgres" not in refused.text.lower() and own_postgres.config.url not in refused.text

    own_postgres.start_again()
    admitted = harness.client.post("/v1/interviews", json=request, headers=harness.bearer(token))
    assert admitted.status_code == 201, admitted.text
    assert harness.interview_count() == 1
