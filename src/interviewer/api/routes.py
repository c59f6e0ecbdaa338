"""The api's routes: interviews (owner only), roles, public web config, health."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from interviewer import rooms
from interviewer.api.deps import Reader, Services, ServicesDep, Writer, services
from interviewer.api.models import (
    INTERVIEW_ID_PATTERN,
    CompetencyOut,
    CreateInterviewRequest,
    EndedInterview,
    FirebaseWebConfig,
    Health,
    InterviewCredentials,
    InterviewDetail,
    InterviewList,
    InterviewSummary,
    PublicConfig,
    Readiness,
    RoleList,
    RoleOut,
)
from interviewer.api.plans_routes import apply_choice
from interviewer.api.problems import (
    BusyProblem,
    ConflictProblem,
    Problem,
    ProblemError,
    RateLimitProblem,
    ValidationProblem,
    problem_doc,
    problem_response,
    retry_later,
)
from interviewer.auth import Identity, IdentityProviderUnavailable
from interviewer.interview.plans import (
    RolePlan,
    UnknownRole,
    list_roles,
    load_role,
    plan_from_job_description,
)
from interviewer.store import ActiveInterviewExists, Interview, InterviewStatus, fleet

log = logging.getLogger(__name__)

InterviewId = Annotated[str, Path(pattern=INTERVIEW_ID_PATTERN, description="The interview id.")]

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: problem_doc(
        Problem, "Missing, invalid, expired or revoked ID token.", **{"WWW-Authenticate": "Bearer"}
    ),
    422: problem_doc(ValidationProblem, "A field is missing, malformed, or unknown."),
    429: problem_doc(RateLimitProblem, "Per-uid rate limit.", **{"Retry-After": "Seconds to wait."}),
    503: problem_doc(
        Problem,
        "The identity provider could not be reached, or the database (`unavailable`: Retry-After says when "
        "to try again).",
    ),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem_doc(Problem, "No such interview for this caller.")}
TOO_LARGE: dict[int | str, dict[str, Any]] = {413: problem_doc(Problem, "Request body too large.")}

interviews = APIRouter(prefix="/v1/interviews", tags=["interviews"])
public = APIRouter(tags=["public"])


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _summary(interview: Interview) -> dict[str, Any]:
    return {
        "interview_id": interview.id,
        "role": interview.role,
        "role_title": str(interview.plan.get("title", interview.role)),
        "status": interview.status,
        "created_at": _utc(interview.created_at),
        "duration_minutes": interview.duration_minutes,
    }


def _owned(svc: Services, interview_id: str, identity: Identity) -> Interview:
    interview = svc.store.get_interview(interview_id)
    # Someone else's interview is indistinguishable from a missing one.
    if interview is None or interview.candidate_uid != identity.uid:
        raise ProblemError(404, "not-found", "Not found", "no such interview")
    return interview


def _plan(body: CreateInterviewRequest) -> RolePlan:
    if body.job_description is not None:
        title = None
        if body.role != "custom":
            title = _known_role(body.role).title
        return plan_from_job_description(body.job_description, title=title)
    if body.role == "custom":
        raise ProblemError(
            422,
            "validation-error",
            "Invalid request",
            "job_description: required when role is 'custom'",
            errors=[
                {"field": "job_description", "location": "body", "message": "required for role 'custom'"}
            ],
        )
    return _known_role(body.role)


def _known_role(role: str) -> RolePlan:
    try:
        return load_role(role)
    except UnknownRole:
        raise ProblemError(
            422,
            "validation-error",
            "Invalid request",
            f"role: unknown role {role!r}",
            errors=[{"field": "role", "location": "body", "message": "unknown role; see GET /v1/roles"}],
        ) from None


def _credentials(
    svc: Services, interview: Interview, identity: Identity, *, dispatch: bool
) -> InterviewCredentials:
    metadata = (
        rooms.DispatchMetadata(interview_id=interview.id, role=interview.role, candidate_uid=identity.uid)
        if dispatch
        else None
    )
    token = rooms.mint_participant_token(
        svc.settings, identity=identity.uid, name=identity.name, room=interview.room, dispatch=metadata
    )
    return InterviewCredentials(
        interview_id=interview.id,
        livekit_url=svc.settings.livekit_url,
        participant_token=token.jwt,
        room=interview.room,
        expires_at=token.expires_at,
    )


# A worker beats every few seconds (and at once when its count of interviews changes); one that missed
# several is gone. An interview handed out and not yet claimed holds a slot this long (the candidate is
# joining).
WORKER_FRESH_SECONDS = 8.0
PENDING_CLAIM_SECONDS = 30.0


def _refuse_when_full(svc: Services, conn: Connection) -> None:
    """Refuse with 503 + Retry-After when every registered worker is full: a clear "busy" beats a silent
    room. With no worker registered at all the interview is admitted: a worker may be starting (a cold start
    or a deploy), and its dispatch recovery picks the candidate up. Runs under the store's admission lock,
    in the transaction that opens the interview: a burst across api instances cannot overbook the fleet."""
    fleet_now = fleet.read_capacity(conn, fresh_for=WORKER_FRESH_SECONDS, pending_for=PENDING_CLAIM_SECONDS)
    if fleet_now.known and fleet_now.free <= 0:
        retry = svc.settings.busy_retry_after_seconds
        raise retry_later(
            503,
            "busy",
            "Every interviewer is busy",
            f"all {fleet_now.workers} interview workers are full; please try again in {retry} seconds",
            retry,
        )


def _create(identity: Identity, svc: Services, body: CreateInterviewRequest) -> InterviewCredentials:
    plan = apply_choice(_plan(body), body.competencies)
    interview = _open(identity, svc, body, plan)
    credentials = _credentials(svc, interview, identity, dispatch=True)
    log.info("interview %s created for uid %s (role %s)", interview.id, identity.uid, plan.id)
    return credentials


def _open(identity: Identity, svc: Services, body: CreateInterviewRequest, plan: RolePlan) -> Interview:
    try:
        return svc.store.open_interview(
            candidate_uid=identity.uid,
            name=identity.name,
            email=identity.email,
            interview_id="iv_" + secrets.token_urlsafe(16),
            role=plan.id,
            plan=plan.model_dump(mode="json"),
            duration_minutes=body.duration_minutes or svc.settings.default_duration_minutes,
            room=rooms.new_room_name(),
            admit=partial(_refuse_when_full, svc),
        )
    except ActiveInterviewExists as active:
        raise ProblemError(
            409,
            "active-interview",
            "An interview is already active",
            "end it (POST /v1/interviews/{id}/end) or rejoin it before starting another",
            active_interview_id=active.interview_id,
        ) from None


@interviews.post(
    "",
    status_code=201,
    response_model=InterviewCredentials,
    responses={
        **AUTH_RESPONSES,
        **TOO_LARGE,
        409: problem_doc(ConflictProblem, "One is already active."),
        503: problem_doc(
            BusyProblem,
            "Every interviewer is busy (`busy`) or the database could not be reached (`unavailable`): "
            "Retry-After says when to try again. Or the identity provider could not be reached.",
            **{"Retry-After": "Seconds to wait."},
        ),
    },
    summary="Start an interview: a LiveKit token whose join creates the room and dispatches the agent.",
)
async def create_interview(
    body: CreateInterviewRequest, auth: Writer, request: Request
) -> InterviewCredentials:
    return await auth.run(_create, services(request), body)


@interviews.get(
    "", response_model=InterviewList, responses=AUTH_RESPONSES, summary="The caller's interviews."
)
async def list_my_interviews(auth: Reader, request: Request) -> InterviewList:
    return await auth.run(_list, services(request))


def _list(identity: Identity, svc: Services) -> InterviewList:
    rows = svc.store.list_interviews(identity.uid)
    return InterviewList(interviews=[InterviewSummary(**_summary(row)) for row in rows])


def _detail(identity: Identity, svc: Services, interview_id: str) -> InterviewDetail:
    interview = _owned(svc, interview_id, identity)
    # An abandoned interview has a report too, of what was said before the candidate left.
    report = None if interview.status.is_active else svc.store.get_report(interview.id)
    return InterviewDetail(**_summary(interview), report=report.report if report else None)


@interviews.get(
    "/{interview_id}",
    response_model=InterviewDetail,
    responses={**AUTH_RESPONSES, **NOT_FOUND},
    summary="Status of one of the caller's interviews, with the report once finished.",
)
async def get_interview(interview_id: InterviewId, auth: Reader, request: Request) -> InterviewDetail:
    return await auth.run(_detail, services(request), interview_id)


def _rejoin(identity: Identity, svc: Services, interview_id: str) -> InterviewCredentials:
    interview = _owned(svc, interview_id, identity)
    if interview.status is not InterviewStatus.live:
        # Only a live interview has a room with an agent in it. A token without a dispatch for a room that
        # does not exist yet would create a room with no interviewer; one with a dispatch could duplicate it.
        raise ProblemError(
            409,
            "interview-not-live",
            "Interview is not live",
            f"the interview is {interview.status.value}; only a live interview can be rejoined",
        )
    return _credentials(svc, interview, identity, dispatch=False)


@interviews.post(
    "/{interview_id}/token",
    response_model=InterviewCredentials,
    responses={**AUTH_RESPONSES, **NOT_FOUND, 409: problem_doc(Problem, "The interview is not live.")},
    summary="Rejoin a live interview: a fresh token for the same room, without a second agent dispatch.",
)
async def rejoin_interview(interview_id: InterviewId, auth: Writer, request: Request) -> InterviewCredentials:
    return await auth.run(_rejoin, services(request), interview_id)


def _end(identity: Identity, svc: Services, interview_id: str) -> EndedInterview:
    interview = _owned(svc, interview_id, identity)
    if svc.store.end_interview(interview.id, InterviewStatus.abandoned, "ended by the candidate"):
        log.info("interview %s abandoned by uid %s", interview.id, identity.uid)
        return EndedInterview(interview_id=interview.id, status=InterviewStatus.abandoned)
    current = svc.store.get_interview(interview.id)
    return EndedInterview(interview_id=interview.id, status=current.status if current else interview.status)


@interviews.post(
    "/{interview_id}/end",
    response_model=EndedInterview,
    responses={**AUTH_RESPONSES, **NOT_FOUND},
    summary="Abandon an interview (idempotent: an interview already over keeps its status).",
)
async def end_interview(interview_id: InterviewId, auth: Writer, request: Request) -> EndedInterview:
    svc = services(request)
    ended = await auth.run(_end, svc, interview_id)
    interview = svc.store.get_interview(ended.interview_id)
    if interview is not None and ended.status is InterviewStatus.abandoned:
        # Deleting the room disconnects the agent, whose job then scores what was said and exits; without
        # it an abandoned interview would hold an agent until the room's departure timeout.
        try:
            await rooms.delete_room(svc.settings, interview.room, timeout=3.0)
        except Exception:
            log.warning("could not delete room of abandoned interview %s", interview.id, exc_info=True)
    return ended


@public.get("/v1/roles", response_model=RoleList, summary="The role plans a candidate can choose.")
async def roles() -> RoleList:
    return RoleList(
        roles=[
            RoleOut(
                id=plan.id,
                title=plan.title,
                summary=plan.summary,
                competencies=[CompetencyOut(id=c.id, name=c.name) for c in plan.competencies],
            )
            for plan in list_roles()
        ]
    )


@public.get("/v1/config", response_model=PublicConfig, summary="Public web-client configuration.")
async def public_config(svc: ServicesDep) -> PublicConfig:
    settings = svc.settings
    emulator = settings.firebase_auth_emulator_host if settings.is_dev else None
    return PublicConfig(
        firebase=FirebaseWebConfig(
            apiKey=settings.firebase_web_api_key,
            authDomain=settings.firebase_auth_domain or f"{settings.firebase_project_id}.firebaseapp.com",
            projectId=settings.firebase_project_id,
            emulatorUrl=f"http://{emulator}" if emulator else None,
        ),
        agentJoinTimeoutSeconds=settings.agent_join_timeout_seconds,
    )


@public.get("/healthz", response_model=Health, summary="The process is alive.")
async def healthz() -> Health:
    return Health(status="ok")


@public.get(
    "/readyz",
    response_model=Readiness,
    responses={503: problem_doc(Problem, "The store or the identity provider is unreachable.")},
    summary="The store and the identity provider are reachable.",
)
async def readyz(svc: ServicesDep) -> Readiness | JSONResponse:
    checks: dict[str, str] = {}
    try:
        await run_in_threadpool(svc.store.ping)
        checks["store"] = "ok"
    except Exception as error:  # any database failure means not ready
        log.warning("readiness: store unreachable: %s", type(error).__name__)
        checks["store"] = "unreachable"
    try:
        await run_in_threadpool(svc.verifier.ping)
        checks["identity"] = "ok"
    except IdentityProviderUnavailable:
        checks["identity"] = "unreachable"
    if all(value == "ok" for value in checks.values()):
        return Readiness(status="ready", checks=checks)
    return problem_response(503, "not-ready", "Not ready", "a dependency is unreachable", checks=checks)
