"""Plans from any job description: the title from the text, competencies ranked by BM25 from the bank."""

from __future__ import annotations

from pathlib import Path

import pytest

from interviewer.interview.job_description import (
    UnknownCompetency,
    alternatives,
    bank,
    families,
    plan_from_job_description,
    title_from,
    with_competencies,
)
from interviewer.interview.plans import load_role

SRE = (Path(__file__).parent.parent / "data" / "jd-site-reliability-engineer.txt").read_text()

FAMILY_JDS = {
    "site-reliability-engineer": "Own SLOs, lead incident response on-call, automate toil with Terraform.",
    "frontend-engineer": "Build fast, accessible React interfaces in TypeScript; care about Core Web Vitals.",
    "mobile-engineer": "Ship our iOS and Android apps in Swift and Kotlin; reduce crashes and startup time.",
    "data-engineer": "Build ETL pipelines in Airflow and Spark and model our Snowflake warehouse with dbt.",
    "product-designer": "Run user research and usability tests, prototype flows in Figma.",
    "account-executive": "Own a quota, prospect and qualify enterprise deals, negotiate and close contracts.",
    "support-specialist": "Answer customer tickets in Zendesk, troubleshoot, keep the knowledge base.",
    "engineering-manager": "Lead direct reports: coaching, one-on-ones, hiring and delivery planning.",
}


def test_a_pasted_sre_description_gets_its_title_and_sre_competencies() -> None:
    plan = plan_from_job_description(SRE)
    assert plan.title == "Site Reliability Engineer"
    ids = [c.id for c in plan.competencies]
    assert {"incident-response", "slos-observability", "infrastructure-automation"} <= set(ids)
    names = {c.name for c in plan.competencies}
    assert not names & {"Voice of the customer", "Communicating insight"}
    assert any(c.kind == "behavioural" for c in plan.competencies)
    assert plan_from_job_description(SRE) == plan, "deterministic"


def test_the_bank_has_at_least_eight_more_role_families() -> None:
    assert len(families()) >= 8
    assert set(FAMILY_JDS) <= {f.family for f in families()}
    ids = [c.id for c in bank()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("family", sorted(FAMILY_JDS))
def test_each_family_description_ranks_its_own_competencies_first(family: str) -> None:
    own = {c.id for f in families() if f.family == family for c in f.competencies}
    plan = plan_from_job_description(FAMILY_JDS[family])
    top = [c.id for c in plan.competencies[:2]]
    assert set(top) <= own, (family, top)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Senior Data Scientist\nYou will run experiments.", "Senior Data Scientist"),
        ("Job title: Senior Frontend Engineer (React)\nBuild UIs.", "Senior Frontend Engineer"),
        (
            "About the role\nWe are hiring a Staff Platform Engineer to lead our platform.",
            "Staff Platform Engineer",
        ),
        (
            "About us\nWe're a small team. Join us as Head of Customer Support - Remote.",
            "Head of Customer Support",
        ),
        ("Position: Account Executive, EMEA\nClose deals.", "Account Executive, EMEA"),
        ("We build software for hospitals and need help with many things.", None),
    ],
)
def test_the_title_comes_from_the_description(text: str, title: str | None) -> None:
    assert title_from(text) == title


def test_no_title_in_the_text_falls_back_to_the_family_not_custom_role() -> None:
    plan = plan_from_job_description("Ship our iOS and Android apps in Swift and Kotlin.")
    assert plan.title == "Mobile Engineer"


def test_the_candidate_can_drop_and_add_competencies() -> None:
    plan = plan_from_job_description(SRE)
    extra = alternatives(plan, SRE)
    assert extra and not {c.id for c in extra} & {c.id for c in plan.competencies}
    ids = [c.id for c in plan.competencies[1:]] + [extra[0].id]
    chosen = with_competencies(plan, ids)
    assert [c.id for c in chosen.competencies] == ids and chosen.title == plan.title
    with pytest.raises(UnknownCompetency):
        with_competencies(load_role("backend-engineer"), ["astronomy"])
