"""Recovering dispatches that livekit-server dropped, and interviews whose job died.

The dispatch in the candidate's token fires once, when the join creates the room. If no worker is registered
at that moment (a deploy, a crash, a cold start), livekit-server logs "not dispatching agent job since no
worker is available" and never tries again: the candidate would wait alone forever. So each registered
worker looks, every few seconds, for interviews still `created` whose candidate is in the room with no agent
and no live job, and dispatches one explicitly. Duplicates are harmless: the interview row can be claimed by
exactly one job, and any other job leaves before it connects.

An interview whose job died (its worker was killed, the process crashed) stops renewing its lease (see
store/fleet.py). The candidate is still in the room, so a worker dispatches a fresh job, which takes the
interview over from the store. If nobody can within `TAKEOVER_TIMEOUT_SECONDS` (no worker left, the candidate
gone, or take-overs that keep failing), the interview is finished from what was saved, marked as cut short,
and its room deleted: nothing stays `live`. The api runs that last step too, for when no worker is left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from livekit import api as lkapi
from sqlalchemy import select

from interviewer.agent.resume import resume_runtime
from interviewer.config import Settings
from interviewer.rooms import DispatchMetadata, delete_room, http_url
from interviewer.store import Interview, InterviewStatus, Store, fleet
from interviewer.store.models import utcnow

log = logging.getLogger("interviewer.recovery")

LIVE_JOB_STATES = (lkapi.JobStatus.JS_PENDING, lkapi.JobStatus.JS_RUNNING)
MAX_TAKEOVERS = 3  # an interview whose every job dies (a crash it causes) is finished, not retried forever
CUT_SHORT_REASON = "cut short: the interview service lost the connection and could not resume"
SWEEPER_JOB_ID = "finisher"
# One take-over dispatch per room from this worker in this long; duplicates from other workers are harmless
# (one job wins the lease, the others leave).
TAKEOVER_REDISPATCH_SECONDS = 10.0
_takeover_dispatched: dict[str, float] = {}
# Likewise for a missed dispatch. A dispatch made while every worker is full gets no job and looks dropped
# a few seconds later; re-dispatching it every pass piled dozens of dispatches onto one room, which all got
# jobs once a slot freed (each starting, finding the interview claimed, and leaving) and kept the fleet full.
MISSED_REDISPATCH_SECONDS = 10.0
_missed_dispatched: dict[str, float] = {}
# LiveKit assigns a dispatch's job within a fraction of a second, or drops it for good ("no worker available
# to handle job") when the worker it offered the job to refuses: it offers by the load each worker last
# reported, so two candidates in the same instant can both be offered to one worker with one free slot.
# Past this age a dispatch without a job is taken as dropped (a volume run waited 5 s for each such one).
DISPATCH_IN_FLIGHT_SECONDS = 2.0


# While the store is away no job can renew its lease, so every lease may run out together: once it is back,
# an expired lease means a dead job only after the live jobs have had a full lease to renew theirs.
TRUST_LEASES_AFTER_SECONDS = fleet.LEASE_SECONDS + fleet.LEASE_RENEW_SECONDS


@dataclass
class StoreReach:
    """Whether an expired lease can be taken to mean that its job died. A Postgres restart longer than a
    lease sent a take-over job into a room whose agent was alive and talking; one longer than the take-over
    timeout would have finished every live interview as cut short."""

    clock: Callable[[], float] = time.monotonic
    _down: bool = False
    _back_at: float | None = None  # None: never seen away

    def failed(self) -> None:
        self._down = True

    def reached(self) -> None:
        if self._down:
            self._down, self._back_at = False, self.clock()

    @property
    def leases_trusted(self) -> bool:
        if self._down:
            return False
        return self._back_at is None or self.clock() - self._back_at >= TRUST_LEASES_AFTER_SECONDS


def interviews_awaiting_agent(store: Store, max_age: timedelta) -> Sequence[Interview]:
    """Interviews whose token may still be in use and that no agent has claimed yet."""
    with store.session() as session:
        return session.scalars(
            select(Interview).where(
                Interview.status == InterviewStatus.created, Interview.created_at >= utcnow() - max_age
            )
        ).all()


async def recover_missed_dispatches(settings: Settings, store: Store) -> list[str]:
    """Dispatch an agent to every room that should have one and has none. Returns the rooms dispatched."""
    waiting = interviews_awaiting_agent(store, timedelta(seconds=settings.token_ttl_seconds + 60))
    if not waiting:
        return []
    dispatched: list[str] = []
    async with _client(settings) as client:
        listed = await client.room.list_rooms(lkapi.ListRoomsRequest(names=[i.room for i in waiting]))
        open_rooms = {room.name for room in listed.rooms}
        for interview in waiting:
            if interview.room not in open_rooms:
                continue  # the candidate has not joined: their join will carry the dispatch
            if time.monotonic() - _missed_dispatched.get(interview.room, -1e9) < MISSED_REDISPATCH_SECONDS:
                continue
            if await _has_live_job(client, interview.room, settings.agent_name):
                continue
            participants = (
                await client.room.list_participants(lkapi.ListParticipantsRequest(room=interview.room))
            ).participants
            if any(p.kind == lkapi.ParticipantInfo.Kind.AGENT for p in participants):
                continue
            if not any(p.identity == interview.candidate_uid for p in participants):
                continue
            await _dispatch(client, settings, interview)
            _missed_dispatched[interview.room] = time.monotonic()
            log.warning("re-dispatched an agent to %s (the token's dispatch found no worker)", interview.room)
            dispatched.append(interview.room)
    return dispatched


async def recover_orphaned_interviews(settings: Settings, store: Store) -> list[str]:
    """Dispatch a fresh job to every live interview whose job died while its candidate waits in the room;
    finish the ones nobody could take over in time. Returns the rooms dispatched to."""
    orphans = fleet.orphaned_interviews(store)
    if not orphans:
        return []
    dispatched: list[str] = []
    async with _client(settings) as client:
        for interview in orphans:
            lease = fleet.lease_of(store, interview.id)
            if lease is None:
                continue
            if lease.takeovers >= MAX_TAKEOVERS or _expired_for(lease.expires_at) > (
                settings.takeover_timeout_seconds
            ):
                await finish_cut_short(settings, store, interview)
                continue
            if (
                time.monotonic() - _takeover_dispatched.get(interview.room, -1e9)
                < TAKEOVER_REDISPATCH_SECONDS
            ):
                continue  # a take-over is on its way (the dead job's dispatch may still look running)
            participants = await _participants(client, interview.room)
            if participants is None:
                continue  # the room is gone: the timeout finishes the interview
            # The dead job's agent may still be listed (the server waits a while for a reconnect): the
            # expired lease is what says it is gone, and the take-over claim is atomic on it.
            if not any(p.identity == interview.candidate_uid for p in participants):
                continue  # the candidate may rejoin; if not, the timeout finishes it
            await _dispatch(client, settings, interview)
            _takeover_dispatched[interview.room] = time.monotonic()
            log.warning("dispatched a job to take over %s, whose job died", interview.room)
            dispatched.append(interview.room)
    return dispatched


async def finish_orphans_nobody_took(settings: Settings, store: Store) -> list[str]:
    """The api's share: finish live interviews left without a job for longer than the take-over timeout
    (when no worker is left to do it). Returns the interview ids finished."""
    finished = []
    for interview in fleet.orphaned_interviews(store, expired_for=settings.takeover_timeout_seconds):
        if await finish_cut_short(settings, store, interview):
            finished.append(interview.id)
    return finished


async def finish_cut_short(settings: Settings, store: Store, interview: Interview) -> bool:
    """Score what was saved, store the report marked as cut short, and let the candidate go. Exactly one
    caller wins (it takes the expired lease first). False if another did, or the job came back."""
    if not fleet.take_over(store, interview.id, SWEEPER_JOB_ID, ttl=settings.takeover_timeout_seconds):
        return False
    runtime = resume_runtime(store, interview)
    runtime.finish(CUT_SHORT_REASON)
    log.warning("finished %s from its saved turns: nobody could take it over", interview.id)
    try:
        await delete_room(settings, interview.room)
    except Exception:
        log.exception("could not delete room %s", interview.room)
    return True


def _expired_for(expires_at: datetime) -> float:
    aware = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
    return (utcnow() - aware).total_seconds()


def _client(settings: Settings) -> lkapi.LiveKitAPI:
    return lkapi.LiveKitAPI(
        url=http_url(settings.livekit_url),
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_secret(),
    )


async def _participants(client: lkapi.LiveKitAPI, room: str) -> list[lkapi.ParticipantInfo] | None:
    listed = await client.room.list_rooms(lkapi.ListRoomsRequest(names=[room]))
    if not listed.rooms:
        return None
    return list((await client.room.list_participants(lkapi.ListParticipantsRequest(room=room))).participants)


async def _dispatch(client: lkapi.LiveKitAPI, settings: Settings, interview: Interview) -> None:
    metadata = DispatchMetadata(interview.id, interview.role, interview.candidate_uid)
    await client.agent_dispatch.create_dispatch(
        lkapi.CreateAgentDispatchRequest(
            agent_name=settings.agent_name, room=interview.room, metadata=metadata.to_json()
        )
    )


async def _has_live_job(client: lkapi.LiveKitAPI, room: str, agent_name: str) -> bool:
    return any(
        dispatch_is_live(dispatch, agent_name) for dispatch in await client.agent_dispatch.list_dispatch(room)
    )


def dispatch_is_live(dispatch: lkapi.AgentDispatch, agent_name: str) -> bool:
    """True if this dispatch of our agent has a job pending or running, or is young enough that the server
    may still be assigning one (not ours to duplicate)."""
    if dispatch.agent_name != agent_name:
        return False
    jobs = list(dispatch.state.jobs)
    if not jobs:
        return _recent(dispatch)
    return any(job.state.status in LIVE_JOB_STATES for job in jobs)


def _recent(dispatch: lkapi.AgentDispatch) -> bool:
    """A dispatch without jobs for longer than `DISPATCH_IN_FLIGHT_SECONDS` was dropped, not in flight."""
    created = float(dispatch.state.created_at)
    if created <= 0:
        return False
    while created > 1e11:  # the server's unit (s, ms or ns) is not documented: normalise to seconds
        created /= 1000.0
    return utcnow().timestamp() - created < DISPATCH_IN_FLIGHT_SECONDS
