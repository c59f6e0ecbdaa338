"""Role plans: competencies, questions, probes and rubrics, shipped as YAML inside the package."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

CompetencyKind = Literal["behavioural", "role"]


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    text: str


class Competency(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    kind: CompetencyKind
    keywords: tuple[str, ...] = ()
    questions: tuple[Question, ...] = Field(min_length=2, max_length=3)
    probes: tuple[str, ...] = Field(min_length=1)
    easier: str | None = None  # a simpler version, offered once after "I don't know"
    rubric: dict[int, str]

    @field_validator("rubric")
    @classmethod
    def _five_levels(cls, rubric: dict[int, str]) -> dict[int, str]:
        if sorted(rubric) != [1, 2, 3, 4, 5]:
            raise ValueError("rubric needs exactly the levels 1..5")
        return rubric


class RolePlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    summary: str
    warmup: tuple[Question, ...] = Field(min_length=1)
    competencies: tuple[Competency, ...] = Field(min_length=1, max_length=6)

    def competency(self, competency_id: str) -> Competency:
        for competency in self.competencies:
            if competency.id == competency_id:
                return competency
        raise KeyError(competency_id)

    def question(self, question_id: str) -> tuple[Competency | None, Question]:
        for question in self.warmup:
            if question.id == question_id:
                return None, question
        for competency in self.competencies:
            for question in competency.questions:
                if question.id == question_id:
                    return competency, question
        raise KeyError(question_id)


class UnknownRole(LookupError):
    def __init__(self, role_id: str) -> None:
        super().__init__(f"unknown role {role_id!r}; known: {', '.join(role_ids())}")
        self.role_id = role_id


@cache
def _bundled() -> dict[str, RolePlan]:
    plans: dict[str, RolePlan] = {}
    for entry in sorted(resources.files("interviewer.interview.roles").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            plan = RolePlan.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
            plans[plan.id] = plan
    return plans


def role_ids() -> list[str]:
    return list(_bundled())


def list_roles() -> list[RolePlan]:
    return list(_bundled().values())


def load_role(role_id: str) -> RolePlan:
    try:
        return _bundled()[role_id]
    except KeyError:
        raise UnknownRole(role_id) from None


def plan_from_job_description(text: str, *, title: str | None = None, size: int = 5) -> RolePlan:
    """A plan for a pasted job description: see `interview.job_description` (BM25 over the whole bank)."""
    from interviewer.interview import job_description  # it builds on this module's types

    return job_description.plan_from_job_description(text, title=title, size=size)
