"""The api's edges: every request and response body is one of these models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from interviewer.interview.report import Report
from interviewer.store import InterviewStatus

ROLE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,99}$"
INTERVIEW_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateInterviewRequest(StrictModel):
    role: str = Field(
        pattern=ROLE_PATTERN,
        description="A role id from GET /v1/roles, or 'custom' together with job_description.",
        examples=["backend-engineer"],
    )
    job_description: str | None = Field(
        default=None,
        min_length=1,
        max_length=20_000,
        description="Pasted job description: the plan is built from it (the role's title is kept).",
    )
    duration_minutes: int | None = Field(default=None, ge=5, le=60)
    competencies: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=6,
        description="The candidate's choice of competencies, in order (ids from POST /v1/plans/preview); "
        "default: the plan's own.",
    )


class InterviewCredentials(BaseModel):
    interview_id: str
    livekit_url: str
    participant_token: str = Field(description="LiveKit JWT for this candidate and this room only.")
    room: str
    expires_at: datetime = Field(description="When the participant token stops being accepted for a join.")


class InterviewSummary(BaseModel):
    interview_id: str
    role: str
    role_title: str
    status: InterviewStatus
    created_at: datetime
    duration_minutes: int


class InterviewDetail(InterviewSummary):
    report: Report | None = Field(description="The scorecard once the interview is finished.")


class InterviewList(BaseModel):
    interviews: list[InterviewSummary]


class EndedInterview(BaseModel):
    interview_id: str
    status: InterviewStatus


class CompetencyOut(BaseModel):
    id: str
    name: str


class RoleOut(BaseModel):
    id: str
    title: str
    summary: str
    competencies: list[CompetencyOut]


class RoleList(BaseModel):
    roles: list[RoleOut]


class FirebaseWebConfig(BaseModel):
    apiKey: str
    authDomain: str
    projectId: str
    emulatorUrl: str | None


class PublicConfig(BaseModel):
    firebase: FirebaseWebConfig
    agentJoinTimeoutSeconds: int


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
