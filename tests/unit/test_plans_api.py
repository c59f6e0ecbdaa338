"""POST /v1/plans/preview through the real app, in process: the plan's competencies before starting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from interviewer.api.app import create_app
from interviewer.api.plans_routes import apply_choice, plan_for
from interviewer.api.problems import ProblemError
from interviewer.api.schema import NoIdentity
from interviewer.config import Settings
from interviewer.store import Store

SRE = (Path(__file__).parent.parent / "data" / "jd-site-reliability-engineer.txt").read_text()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings.model_validate({"INTERVIEWER_MODE": "test", "INTERVIEWER_DATA_DIR": str(tmp_path)})
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with TestClient(create_app(settings, store, NoIdentity())) as client:
        yield client
    store.close()


def test_preview_of_a_pasted_job_description(client: TestClient) -> None:
    response = client.post("/v1/plans/preview", json={"role": "custom", "job_description": SRE})
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Site Reliability Engineer"
    ids = [c["id"] for c in body["competencies"]]
    assert "incident-response" in ids and len(ids) == 5
    assert body["alternatives"] and not {c["id"] for c in body["alternatives"]} & set(ids)


def test_preview_of_a_bundled_role(client: TestClient) -> None:
    body = client.post("/v1/plans/preview", json={"role": "backend-engineer"}).json()
    assert body["title"] == "Backend Engineer" and body["competencies"][0]["id"] == "system-design"


def test_unknown_role_is_a_problem(client: TestClient) -> None:
    response = client.post("/v1/plans/preview", json={"role": "astronaut"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    response = client.post("/v1/plans/preview", json={"role": "custom"})
    assert response.status_code == 422 and "job_description" in response.json()["detail"]


def test_the_chosen_competencies_make_the_plan() -> None:
    plan = plan_for("custom", SRE)
    chosen = apply_choice(plan, ["incident-response", "people-leadership"])
    assert [c.id for c in chosen.competencies] == ["incident-response", "people-leadership"]
    assert apply_choice(plan, None) is plan
    with pytest.raises(ProblemError):
        apply_choice(plan, ["astronomy"])
