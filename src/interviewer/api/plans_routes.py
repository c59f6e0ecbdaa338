"""Plans before the interview: which competencies the plan covers, and which the candidate could add."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from interviewer.api.models import ROLE_PATTERN
from interviewer.api.problems import ProblemError, ValidationProblem, problem_doc
from interviewer.interview.job_description import (
    UnknownCompetency,
    alternatives,
    plan_from_job_description,
    with_competencies,
)
from interviewer.interview.plans import Competency, RolePlan, UnknownRole, load_role

plans = APIRouter(prefix="/v1/plans", tags=["plans"])


class PlanPreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(pattern=ROLE_PATTERN, examples=["backend-engineer"])
    job_description: str | None = Field(default=None, min_length=1, max_length=20_000)


class CompetencyChoice(BaseModel):
    id: str
    name: str
    kind: str


class PlanPreview(BaseModel):
    title: str
    summary: str
    competencies: list[CompetencyChoice] = Field(description="What the interview will cover, in order.")
    alternatives: list[CompetencyChoice] = Field(description="Others the candidate may add instead.")


def _choice(competency: Competency) -> CompetencyChoice:
    return CompetencyChoice(id=competency.id, name=competency.name, kind=competency.kind)


def _invalid(field: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        "validation-error",
        "Invalid request",
        f"{field}: {message}",
        errors=[{"field": field, "location": "body", "message": message}],
    )


def plan_for(role: str, job_description: str | None) -> RolePlan:
    try:
        if job_description is not None:
            title = None if role == "custom" else load_role(role).title
            return plan_from_job_description(job_description, title=title)
        if role == "custom":
            raise _invalid("job_description", "required for role 'custom'")
        return load_role(role)
    except UnknownRole:
        raise _invalid("role", "unknown role; see GET /v1/roles") from None


def apply_choice(plan: RolePlan, competencies: list[str] | None) -> RolePlan:
    """The plan with the candidate's chosen competencies (POST /v1/interviews `competencies`)."""
    if not competencies:
        return plan
    try:
        return with_competencies(plan, competencies)
    except UnknownCompetency as unknown:
        raise _invalid("competencies", f"unknown competency {unknown.competency_id!r}") from None


@plans.post(
    "/preview",
    response_model=PlanPreview,
    responses={422: problem_doc(ValidationProblem, "Unknown role, or 'custom' without a job description.")},
    summary="The competencies a plan covers and the ones the candidate could add, before starting.",
)
async def preview(body: PlanPreviewRequest) -> PlanPreview:
    plan = plan_for(body.role, body.job_description)
    text = body.job_description or f"{plan.title} {plan.summary}"
    return PlanPreview(
        title=plan.title,
        summary=plan.summary,
        competencies=[_choice(c) for c in plan.competencies],
        alternatives=[_choice(c) for c in alternatives(plan, text)],
    )
