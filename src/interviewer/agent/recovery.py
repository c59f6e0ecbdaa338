"""Recovering dispatches that livekit-server dropped.

The dispatch in the candidate's token fires once, when the join creates the room. If no worker is registered
at that moment (a deploy, a crash, a cold start), livekit-server logs "not dispatching agent job since no
worker is available" and never tries again: the candidate would wait alone forever. So each registered
worker looks, every few seconds, for interviews still `created` whose candidate is in the room with no agent
and no live job, and dispatches one explicitly. Duplicates are harmless: the interview row can be claimed by
exactly one job, and any other job leaves before it connects.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from livekit import api as lkapi
from sqlalchemy import select

from interviewer.config import Settings
from interviewer.rooms import DispatchMetadata, http_url
from interviewer.store import Interview, InterviewStatus, Store
from interviewer.store.models import utcnow

log = logging.getLogger("interviewer.recovery")

LIVE_JOB_STATES = (lkapi.JobStatus.JS_PENDING, lkapi.JobStatus.JS_RUNNING)


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
    async with lkapi.LiveKitAPI(
        url=http_url(settings.livekit_url),
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_secret(),
    ) as client:
        listed = await client.room.list_rooms(lkapi.ListRoomsRequest(names=[i.room for i in waiting]))
        open_rooms = {room.name for room in listed.rooms}
        for interview in waiting:
            if interview.room not in open_rooms:
                continue  # the candidate has not joined: their join will carry the dispatch
            if await _has_live_job(client, interview.room, settings.agent_name):
                continue
            participants = (
                await client.room.list_participants(lkapi.ListParticipantsRequest(room=interview.room))
            ).participants
            if any(p.kind == lkapi.ParticipantInfo.Kind.AGENT for p in participants):
                continue
            if not any(p.identity == interview.candidate_uid for p in participants):
                continue
            metadata = DispatchMetadata(interview.id, interview.role, interview.candidate_uid)
            await client.agent_dispatch.create_dispatch(
                lkapi.CreateAgentDispatchRequest(
                    agent_name=settings.agent_name, room=interview.room, metadata=metadata.to_json()
                )
            )
            log.warning("re-dispatched an agent to %s (the token's dispatch found no worker)", interview.room)
            dispatched.append(interview.room)
    return dispatched


async def _has_live_job(client: lkapi.LiveKitAPI, room: str, agent_name: str) -> bool:
    for dispatch in await client.agent_dispatch.list_dispatch(room):
        if dispatch.agent_name != agent_name:
            continue
        jobs = list(dispatch.state.jobs)
        if not jobs or any(job.state.status in LIVE_JOB_STATES for job in jobs):
            # No job yet means the server is still assigning it: not ours to duplicate.
            return True if jobs else _recent(dispatch)
    return False


def _recent(dispatch: lkapi.AgentDispatch) -> bool:
    """A dispatch without jobs for longer than a few seconds was dropped, not in flight."""
    created = float(dispatch.state.created_at)
    if created <= 0:
        return False
    while created > 1e11:  # the server's unit (s, ms or ns) is not documented: normalise to seconds
        created /= 1000.0
    return utcnow().timestamp() - created < 5.0
