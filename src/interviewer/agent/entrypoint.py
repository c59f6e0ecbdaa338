"""One interview job, top to bottom: the startup sequence that keeps the agent from going deaf.

1. Check the interview: it must exist, match this room and candidate, and be claimable (a second agent for
   the same interview, or a token reused after the end, leaves here without a word).
2. Connect audio-only and start the AgentSession at once, so VAD/STT/TTS are up before anyone speaks.
3. Bind the session's input to the participant whose identity is the candidate uid from the dispatch
   metadata, never to whoever joined first, and wait for that participant's microphone track.
4. Greet (uninterruptible). The Greeting Guard opens once the greeting has played and the agent listens.
5. Run until the interview ends (end_interview, time limit, candidate gone, worker drain); then the report
   is stored, the room deleted, and the job exits. A lost connection to the room does not end it: the job
   leaves it to a take-over (disconnects.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from datetime import UTC, datetime, timedelta

from livekit import rtc
from livekit.agents import AgentSession, AutoSubscribe, JobContext, room_io
from livekit.agents.voice.speech_handle import SpeechHandle

from interviewer.agent.attention import watch as watch_attention
from interviewer.agent.interviewer import InterviewerAgent
from interviewer.agent.journal import CLOSE_SECONDS as JOURNAL_CLOSE_SECONDS
from interviewer.agent.load import report_reply_latencies
from interviewer.agent.resume import resume_runtime, where_we_were
from interviewer.agent.runtime import InterviewRuntime
from interviewer.agent.wiring import greet, wire_session
from interviewer.config import Settings, get_settings
from interviewer.disconnects import connection_lost
from interviewer.interview.plans import RolePlan
from interviewer.interview.voice_step import VoiceStep
from interviewer.interview.wording import DRAIN_LINE, RESUME_LINE, RESUME_QUESTION_LEAD, STOP_LINE
from interviewer.rooms import DispatchMetadata, delete_room
from interviewer.store import InterviewStatus, Store, fleet
from interviewer.voice.engine import build_session

log = logging.getLogger("interviewer.agent")

CANDIDATE_MIC_TIMEOUT = 60.0  # the candidate joined (that is what dispatched us) but never published audio
CANDIDATE_GONE_GRACE = 45.0  # a dropped connection may come back (rejoin token) within this
TIME_LIMIT_GRACE = 60.0  # past the budget, the Director closes at the next turn; this is the backstop
GOODBYE_PLAYOUT_TIMEOUT = 20.0
# After a drain's closing line: score and store the report, delete the room, let the job process and then the
# worker exit. Measured under 2.5 s with 4 interviews on 2 cores; the rest of the drain timeout is the line's.
DRAIN_CLOSE_RESERVE = 3.0
CLOSE_SIGNAL = signal.SIGUSR1  # the worker's drain asks the job to close the interview now


async def run_interview(ctx: JobContext) -> None:
    settings = get_settings()
    store: Store = ctx.proc.userdata["store"]
    meta = DispatchMetadata.from_json(ctx.job.metadata)
    log_extra = {"interview_id": meta.interview_id, "room": ctx.room.name, "job_id": ctx.job.id}

    # 1. Is this interview ours to run?
    interview = store.get_interview(meta.interview_id)
    if interview is None or interview.room != ctx.room.name or interview.candidate_uid != meta.candidate_uid:
        log.warning("dispatch does not match a known interview; leaving", extra=log_extra)
        ctx.shutdown("unknown interview")
        return
    # A live interview is taken over only when its job stopped renewing the lease (it died): see fleet.py.
    resuming = interview.status is InterviewStatus.live
    claimed = (
        await _take_over(store, interview.id, ctx.job.id)
        if resuming
        else store.claim_interview(interview.id, ctx.job.id, lease_seconds=fleet.LEASE_SECONDS)
    )
    if not claimed:
        log.info("interview is %s, not claimable; leaving", interview.status.value, extra=log_extra)
        ctx.shutdown("interview not claimable")
        return
    if resuming:
        log.warning("taking over an interview whose job died", extra=log_extra)
    plan = RolePlan.model_validate(interview.plan)

    # 2. Connect and bring the pipeline up before anyone speaks.
    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    runtime = (
        resume_runtime(store, interview)
        if resuming
        else InterviewRuntime.create(
            store, interview_id=interview.id, plan=plan, duration_minutes=interview.duration_minutes
        )
    )
    session = build_session(settings, ctx.proc.userdata, plan, interview.duration_minutes)
    wire_session(session, runtime)
    report_reply_latencies(session)
    ended_by_candidate = asyncio.Event()
    _publish_progress(ctx, runtime)

    closer = _Closer(ctx, settings, session, runtime)

    async def finish(reason: str, *, draining: bool = False) -> None:
        await closer.close(reason, draining=draining)

    disconnects: list[rtc.DisconnectReason.ValueType] = []

    async def leave_if_connection_lost() -> bool:
        """The node went away, not the interview: the candidate's client rejoins, and a fresh job takes the
        interview over from the store. Ending it here would cut it short for good."""
        if not disconnects or not connection_lost(disconnects[0]):
            return False
        current = store.get_interview(interview.id)
        if current is None or current.status is not InterviewStatus.live:
            return False
        log.warning("lost the connection to the room; leaving the interview to a take-over", extra=log_extra)
        await asyncio.to_thread(runtime.close, JOURNAL_CLOSE_SECONDS)  # the take-over replays the journal
        fleet.release_lease(store, interview.id, ctx.job.id)
        await closer.leave_quietly("lost the connection to the room")
        return True

    async def on_shutdown(reason: str) -> None:
        # LiveKit shuts the job down itself when the room disconnects, wherever the interview is.
        if not await leave_if_connection_lost():
            await finish(f"worker shutdown: {reason}")

    ctx.add_shutdown_callback(on_shutdown)
    taken_over = asyncio.Event()  # another job holds the lease now: stop without a word
    lease = asyncio.create_task(_keep_lease(store, interview.id, ctx.job.id, taken_over))
    ctx.add_shutdown_callback(lambda _reason: _cancel(lease))
    drain_requested = asyncio.Event()
    room_closed = asyncio.Event()  # deleted (the candidate ended it in the app) or the server went away

    def on_disconnected(reason: rtc.DisconnectReason.ValueType) -> None:
        disconnects.append(reason)
        room_closed.set()

    ctx.room.on("disconnected", on_disconnected)
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # only in a job process
        asyncio.get_running_loop().add_signal_handler(CLOSE_SIGNAL, drain_requested.set)

    # 3. Bind to the candidate by identity, never to whoever joined first.
    await session.start(
        InterviewerAgent(runtime),
        room=ctx.room,
        room_options=room_io.RoomOptions(
            participant_identity=meta.candidate_uid,
            close_on_disconnect=False,  # a dropped candidate may rejoin with a fresh token
            text_output=True,
        ),
    )
    _watch_candidate(ctx.room, meta.candidate_uid, ended_by_candidate)
    try:
        await _wait_for_microphone(ctx.room, meta.candidate_uid, CANDIDATE_MIC_TIMEOUT)
    except TimeoutError:
        log.warning("candidate never published a microphone", extra=log_extra)
        await finish("the candidate's microphone never arrived")
        return

    # 4. Greet (or apologise, when taking over); the guard opens on the first `listening` after it played.
    if resuming:
        await apologise(session, runtime)
    else:
        await greet(session, runtime)
    log.info("greeting played; guard open=%s", runtime.guard.is_open, extra=log_extra)
    # A silent candidate is prompted, then the interview moves on; an answer far past its time is politely
    # interrupted (the Director decides; see attention.py).
    attention = watch_attention(
        session, runtime, connected=lambda: ctx.room.connection_state == rtc.ConnectionState.CONN_CONNECTED
    )
    ctx.add_shutdown_callback(lambda _reason: _cancel(attention))

    # 5. Run until something ends the interview.
    ended = asyncio.create_task(runtime.ended.wait())
    gone = asyncio.create_task(ended_by_candidate.wait())
    drained = asyncio.create_task(drain_requested.wait())
    closed = asyncio.create_task(room_closed.wait())
    lost = asyncio.create_task(taken_over.wait())
    limit = max(0.0, runtime.seconds_left) + TIME_LIMIT_GRACE
    done, pending = await asyncio.wait(
        {ended, gone, drained, closed, lost}, timeout=limit, return_when=asyncio.FIRST_COMPLETED
    )
    for task in pending:
        task.cancel()
    if lost in done:
        # Another job runs this interview now; a report or a goodbye from here would be a second voice.
        log.warning("another job took this interview over; leaving", extra=log_extra)
        await closer.leave_quietly("taken over by another job")
        return
    if ended in done:
        reason = runtime.director.end_reason or "complete"
    elif gone in done:
        reason = "the candidate left"
    elif drained in done:
        await finish("the interview service is shutting down", draining=True)
        return
    elif closed in done:
        if await leave_if_connection_lost():
            return
        current = store.get_interview(interview.id)
        abandoned = current is not None and current.status is InterviewStatus.abandoned
        reason = "the candidate ended the interview" if abandoned else "the room was closed"
    else:
        reason = "time is up"
    await finish(reason)


class _Closer:
    """Ends the job exactly once, whoever asks first (the model, a timer, the candidate, a drain)."""

    def __init__(
        self, ctx: JobContext, settings: Settings, session: AgentSession[None], runtime: InterviewRuntime
    ) -> None:
        self.ctx, self.settings, self.session, self.runtime = ctx, settings, session, runtime
        self._lock = asyncio.Lock()
        self._closed = False

    async def close(self, reason: str, *, draining: bool = False) -> None:
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            started = time.monotonic()
            await self._say_goodbye(reason, draining)
            said = time.monotonic()
            self.runtime.finish(reason)  # the report is stored before anything else can fail
            scored = time.monotonic()
            # Independent, so at once: the candidate is let go while the pipeline winds down.
            await asyncio.gather(self._close_session(), self._delete_room())
            await asyncio.to_thread(self.runtime.close, JOURNAL_CLOSE_SECONDS)  # the session's last words too
            log.info(
                "closed (%s): goodbye %.2fs, report %.2fs, session and room %.2fs",
                reason,
                said - started,
                scored - said,
                time.monotonic() - scored,
            )
            self.ctx.shutdown(reason)

    async def leave_quietly(self, reason: str) -> None:
        """Stop without a goodbye, a report or deleting the room: the interview goes on elsewhere."""
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            await self._close_session()
            await asyncio.to_thread(self.runtime.close, JOURNAL_CLOSE_SECONDS)
            self.ctx.shutdown(reason)

    async def _close_session(self) -> None:
        with contextlib.suppress(Exception):
            await self.session.aclose()

    async def _delete_room(self) -> None:
        try:
            await delete_room(self.settings, self.ctx.room.name)
        except Exception:
            log.exception("could not delete room %s", self.ctx.room.name)

    async def _say_goodbye(self, reason: str, draining: bool) -> None:
        speech = self.session.current_speech
        if not self.ctx.room.isconnected():
            return  # the room is gone (deleted, or the server went away): nobody to speak to
        if self.runtime.report is not None or reason == "the candidate left":
            # The model already said goodbye (end_interview), or nobody is there to hear one.
            if speech is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(_played(speech), GOODBYE_PLAYOUT_TIMEOUT)
            return
        # A drain has the platform's grace to finish in (Cloud Run: 10 s), so a shorter line and a budget.
        line, budget = STOP_LINE, GOODBYE_PLAYOUT_TIMEOUT
        if draining:
            line, budget = DRAIN_LINE, max(1.0, self.settings.drain_timeout_seconds - DRAIN_CLOSE_RESERVE)
        with contextlib.suppress(Exception):
            handle = self.session.say(line, allow_interruptions=False)
            await asyncio.wait_for(_played(handle), budget)


async def apologise(session: AgentSession[None], runtime: InterviewRuntime) -> None:
    """The greeting of a taken-over interview: say what happened and where we were, then listen. Spoken
    as is (not by the model), uninterruptible, and the guard opens after it exactly as after a greeting."""
    question = where_we_were(runtime)
    line = RESUME_LINE if question is None else f"{RESUME_LINE} {RESUME_QUESTION_LEAD} {question}"
    await session.say(line, allow_interruptions=False)  # stored like every agent line (wiring.py)
    runtime.guard.greeting_finished()
    runtime.guard.agent_state_changed(session.agent_state)


async def _take_over(store: Store, interview_id: str, job_id: str) -> bool:
    """Take a live interview over once its lease has run out. A job may be sent before that (livekit
    re-assigns a dead worker's job at once, and recovery may race it), so wait out the current lease: if
    its holder is alive it keeps renewing and this job leaves; if not, this job takes over."""
    deadline = time.monotonic() + fleet.LEASE_SECONDS + fleet.LEASE_RENEW_SECONDS
    while True:
        if await asyncio.to_thread(fleet.take_over, store, interview_id, job_id, fleet.LEASE_SECONDS):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(fleet.LEASE_RENEW_SECONDS / 2)


async def _keep_lease(store: Store, interview_id: str, job_id: str, taken_over: asyncio.Event) -> None:
    """Renew this job's lease until the job ends; set `taken_over` if another job holds it now."""
    while True:
        await asyncio.sleep(fleet.LEASE_RENEW_SECONDS)
        try:
            held = await asyncio.to_thread(
                fleet.renew_lease, store, interview_id, job_id, fleet.LEASE_SECONDS
            )
        except Exception:
            # The database blinked: keep going; if the lease runs out meanwhile, a take-over ends this job.
            log.exception("could not renew the lease of %s", interview_id)
            continue
        if not held:
            taken_over.set()
            return


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _played(handle: SpeechHandle) -> None:
    await handle


def _publish_progress(ctx: JobContext, runtime: InterviewRuntime) -> None:
    """Participant attributes the web client shows: phase, the interview's end, the current question."""
    started = datetime.now(UTC)
    ends_at = started + timedelta(seconds=runtime.director.total_seconds)

    def publish(step: VoiceStep) -> None:
        attributes = {
            "interview.phase": step.phase.value,
            "interview.ends_at": ends_at.isoformat(),
            "interview.question": step.text or "",
        }
        deadline = runtime.director.competency_deadline()
        if deadline is not None:
            attributes["interview.question_ends_at"] = (started + timedelta(seconds=deadline)).isoformat()
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().create_task(ctx.room.local_participant.set_attributes(attributes))

    runtime.on_step = publish


def _watch_candidate(room: rtc.Room, identity: str, gone: asyncio.Event) -> None:
    """Signal `gone` when the candidate has been disconnected for longer than the rejoin grace."""
    timer: list[asyncio.TimerHandle] = []

    def on_disconnected(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == identity and not timer:
            timer.append(asyncio.get_running_loop().call_later(CANDIDATE_GONE_GRACE, gone.set))

    def on_connected(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == identity and timer:
            timer.pop().cancel()

    room.on("participant_disconnected", on_disconnected)
    room.on("participant_connected", on_connected)


async def _wait_for_microphone(room: rtc.Room, identity: str, timeout: float) -> None:
    """Until the candidate has a subscribed microphone track: only then can the agent hear them."""
    ready = asyncio.Event()

    def check(*_args: object) -> None:
        participant = room.remote_participants.get(identity)
        if participant is None:
            return
        for publication in participant.track_publications.values():
            if publication.source == rtc.TrackSource.SOURCE_MICROPHONE and publication.track is not None:
                ready.set()

    room.on("track_subscribed", check)
    try:
        check()
        await asyncio.wait_for(ready.wait(), timeout)
    finally:
        room.off("track_subscribed", check)
