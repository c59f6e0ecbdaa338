"""Which job offers a worker takes. LiveKit asks before it assigns a job; saying no there costs nothing,
while a job that is assigned and then finds nothing to do still counts as a second dispatch for the room.

A candidate who joins with a token after the interview ended (the app pressed End while a reconnect was in
flight, or a stale tab) re-creates the deleted room, and the room configuration in that token dispatches the
agent again. Such an offer is refused. Anything else is accepted and decided by the job itself, as before:
a store that cannot be read here must not turn a live interview away."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from livekit.agents import JobRequest

from interviewer.rooms import DispatchMetadata
from interviewer.store import InterviewStatus, Store

log = logging.getLogger(__name__)

OVER = (InterviewStatus.finished, InterviewStatus.abandoned)


def refuse_ended_interviews(store: Store) -> Callable[[JobRequest], Awaitable[None]]:
    async def on_request(request: JobRequest) -> None:
        try:
            meta = DispatchMetadata.from_json(request.job.metadata)
            interview = await asyncio.to_thread(store.get_interview, meta.interview_id)
        except Exception as error:  # unreadable metadata or store: the job decides, as it always has
            log.warning("could not check job %s before taking it: %s", request.id, type(error).__name__)
            interview = None
        if interview is not None and interview.status in OVER:
            log.info("refused job %s: interview %s is %s", request.id, interview.id, interview.status.value)
            await request.reject()
            return
        await request.accept()

    return on_request
