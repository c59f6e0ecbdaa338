"""The agent worker process: `interviewer agent`.

Order matters: the health server binds first (before models load), then the LiveKit `AgentServer` registers
with explicit dispatch only (`agent_name="interviewer"`); each interview runs in its own job process whose
models were loaded once in prewarm. SIGTERM/SIGINT drain: /readyz turns 503 at once, no new jobs are taken,
live interviews close politely and are scored, then the process exits within the drain timeout. A second
signal forces a fast exit that still stops every job process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from livekit.agents import AgentServer, JobProcess

from interviewer.agent import compat
from interviewer.agent.entrypoint import CLOSE_SIGNAL, run_interview
from interviewer.agent.health import HealthServer, WorkerState
from interviewer.agent.job_requests import refuse_ended_interviews
from interviewer.agent.load import WorkerLoad
from interviewer.agent.recovery import StoreReach, recover_missed_dispatches, recover_orphaned_interviews
from interviewer.config import Settings, VoiceEngine, get_settings
from interviewer.logs import configure_logging
from interviewer.parent_death import die_with_parent
from interviewer.rooms import delete_room
from interviewer.store import InterviewStatus, Store, fleet
from interviewer.store.outage import is_transient
from interviewer.voice.engine import prewarm_speech
from interviewer.voice.offline.speech_server import SpeechServerProcess

log = logging.getLogger("interviewer.worker")

RECOVERY_INTERVAL_SECONDS = 1.0
HEARTBEAT_SECONDS = 1.0
HEARTBEAT_CHECK_SECONDS = 0.2  # how soon a change of slots reaches the store
FORCED_ROOM_DELETE_TIMEOUT = 3.0
JOB_NICENESS = 5
EXIT_FORCED = 1  # not a clean drain: the interviews cut off by the second signal were not scored
# Imported once in the forkserver. First `orphans`: it ties the forkserver to this process and every job
# process to the forkserver with PR_SET_PDEATHSIG, from the instant of fork (see orphans.py). Then the
# interview's own code and libraries: a job process forked from there starts with them already imported
# (copy-on-write pages shared by every job), so starting one is a fork, not seconds of imports.
FORKSERVER_PRELOAD = [
    "interviewer.agent.orphans",
    "interviewer.agent.entrypoint",
    "interviewer.voice.offline.engine",
]


def prewarm(proc: JobProcess) -> None:
    """Runs once in each job process before it is given an interview."""
    die_with_parent()  # already set at fork by orphans.py; harmless again (e.g. under `spawn`)
    # The worker parent is the control plane (signals, /readyz, job IPC): when interviews saturate the CPU
    # it must still be scheduled first, or a drain's /readyz flip waits behind speech recognition.
    os.nice(JOB_NICENESS)
    # Until an interview installs its own handler, the drain's close signal must not kill the process.
    signal.signal(CLOSE_SIGNAL, signal.SIG_IGN)
    settings = get_settings()
    proc.userdata["store"] = Store(settings.resolved_database_url)
    prewarm_speech(settings, proc.userdata)


def build_server(settings: Settings, load: WorkerLoad, store: Store) -> AgentServer:
    capacity = settings.max_interviews_per_worker
    server = AgentServer(
        ws_url=settings.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_secret(),
        setup_fnc=prewarm,
        drain_timeout=settings.drain_timeout_seconds,
        # One warm process per free slot: a burst of candidates joining in the same second each finds a
        # process ready, and livekit's estimate of a not-yet-launched job (threshold / idle processes)
        # lets it promise every free slot at once instead of one slot per process start.
        num_idle_processes=capacity,
        initialize_process_timeout=90.0,
        shutdown_process_timeout=15.0,
        host="127.0.0.1",
        port=0,  # livekit's own health server: ours (HealthServer) is the one probes use
        load_fnc=lambda agent_server: load.reading(len(agent_server.active_jobs)).slots_used,
        load_threshold=1.0,
        preload_modules=FORKSERVER_PRELOAD,
    )
    server.rtc_session(
        run_interview, agent_name=settings.agent_name, on_request=refuse_ended_interviews(store)
    )
    return server


def _state(server: AgentServer, draining: bool) -> WorkerState:
    if draining or server.draining:
        return WorkerState.draining
    connection = compat.connection(server)
    if connection is compat.Connection.starting:
        return WorkerState.starting
    if connection is compat.Connection.connecting:
        return WorkerState.connecting
    return WorkerState.ready


async def serve(settings: Settings) -> int:
    host, port = settings.listen_address("127.0.0.1", settings.agent_health_port)
    draining = False
    load = WorkerLoad(
        settings.max_interviews_per_worker,
        reply_budget=settings.reply_budget_seconds,
        cpu_full=settings.cpu_full_fraction,
    )
    load.start()  # before the forkserver starts: job processes inherit the socket's name
    offers_store = Store(settings.resolved_database_url)  # read by each job offer, before it is taken
    server = build_server(settings, load, offers_store)
    health = HealthServer(
        host=host,
        port=port,
        state=lambda: _state(server, draining),
        active_interviews=lambda: len(server.active_jobs),
        worker_id=lambda: server.id,
        jobs=lambda: [asdict(job) for job in compat.job_processes(server)],
        load=lambda: asdict(load.reading(len(server.active_jobs))),
    )
    bound = await health.start()
    log.info("health server on port %d", bound)
    # The speech models, once for every interview on this worker (speech_server.py); before the job
    # processes start, which find it through the environment.
    speech = SpeechServerProcess() if settings.voice_engine is VoiceEngine.offline else None
    if speech is not None:
        speech.start()

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = 0
    forced: list[asyncio.Task[None]] = []

    def on_signal(signum: int) -> None:
        nonlocal draining, signals
        signals += 1
        draining = True  # /readyz is 503 from this instant
        if signals == 1:
            log.info("signal %d: draining (timeout %ds)", signum, settings.drain_timeout_seconds)
            stop.set()
        else:
            log.warning("second signal: forcing a fast shutdown")
            forced.append(loop.create_task(_force(server, settings)))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)

    server.on("worker_started", lambda: _watch_crashed_jobs(server, settings))
    run = asyncio.create_task(server.run(devmode=False, unregistered=False))
    recovery = asyncio.create_task(
        _recover_dispatches(
            settings,
            lambda: _state(server, draining),
            lambda: load.reading(len(server.active_jobs)).slots_used < 1.0,
        )
    )
    beats = asyncio.create_task(_heartbeat(settings, server, load, lambda: _state(server, draining)))
    vouching = asyncio.create_task(_vouch_for_jobs(settings, server))
    stopper = asyncio.create_task(stop.wait())
    speech_lost = asyncio.create_task(_speech_server_exit(speech))
    await asyncio.wait({run, stopper, speech_lost}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if speech_lost.done():
        # Nothing could be heard or said any more: drain (live interviews are taken over elsewhere or
        # closed) and exit non-zero, so the platform restarts the worker.
        log.error("the speech server exited; draining")
        draining = True
        code = 1
    elif run.done() and not stopper.done():
        log.error(
            "agent server stopped on its own: %s", run.exception() if not run.cancelled() else "cancelled"
        )
        code = 1
    try:
        await _drain(server, settings)
    finally:
        await server.aclose()
        await health.stop()
        stopper.cancel()
        recovery.cancel()
        beats.cancel()
        vouching.cancel()
        speech_lost.cancel()
        with contextlib.suppress(BaseException):
            await beats
        with contextlib.suppress(BaseException):
            await vouching
        load.stop()
        offers_store.close()
        if speech is not None:
            speech.stop()
        if not run.done():
            run.cancel()
            with contextlib.suppress(BaseException):
                await run
    return code


_background: set[asyncio.Task[Any]] = set()


def _watch_crashed_jobs(server: AgentServer, settings: Settings) -> None:
    """A job process that dies without closing its interview (killed, OOM, segfault) stops renewing its
    lease; rather than wait for the lease to run out, expire it now, so that the next recovery pass hands
    the interview to a fresh job at once (see recovery.py). The candidate is still in the room and every
    turn is stored. A clean exit (code 0) closed its own interview."""
    store = Store(settings.resolved_database_url)

    def on_closed(process: compat.JobProcess) -> None:
        if process.exitcode == 0:
            return
        log.warning(
            "job process %s for room %s died (exit %s); its interview will be taken over",
            process.pid,
            process.room,
            process.exitcode,
        )
        task = asyncio.get_running_loop().create_task(
            asyncio.to_thread(_expire_lease_of_room, store, process.room)
        )
        _background.add(task)
        task.add_done_callback(_background.discard)

    compat.on_job_process_closed(server, on_closed)


async def _vouch_for_jobs(settings: Settings, server: AgentServer) -> None:
    """Renew the lease of every interview whose job process is alive on this worker. A job starved of CPU
    renews late; without this, its lease would lapse and a second agent would take over a room whose first
    agent is still talking. A dead process is not vouched for (and `_watch_crashed_jobs` expires its lease
    at once); a dead worker vouches for nobody."""
    store = Store(settings.resolved_database_url)
    try:
        while True:
            alive = [job.job_id for job in compat.job_processes(server) if job.exitcode is None]
            try:
                await asyncio.to_thread(fleet.renew_leases, store, alive, fleet.LEASE_SECONDS)
            except Exception:
                log.exception("could not renew the leases of this worker's jobs; will retry")
            await asyncio.sleep(fleet.LEASE_RENEW_SECONDS)
    finally:
        store.close()


def _expire_lease_of_room(store: Store, room: str) -> None:
    interview = store.interview_in_room(room)
    if interview is not None and interview.status is InterviewStatus.live:
        fleet.expire_lease(store, interview.id)


async def _recover_dispatches(
    settings: Settings, state: Callable[[], WorkerState], has_room: Callable[[], bool]
) -> None:
    """While ready, re-dispatch agents to rooms whose token dispatch found no worker (see recovery.py).
    Only a worker with a free slot does: a dispatch nobody can take is the one that goes missing."""
    store = Store(settings.resolved_database_url)
    reach = StoreReach()
    try:
        while True:
            if state() is WorkerState.ready:
                try:
                    store.ping()
                    reach.reached()
                    if has_room():
                        await recover_missed_dispatches(settings, store)
                    if reach.leases_trusted:
                        await recover_orphaned_interviews(settings, store)
                except Exception as error:
                    if is_transient(error):
                        reach.failed()
                        log.warning("dispatch recovery waits for the store (%s)", type(error).__name__)
                    else:
                        log.exception("dispatch recovery failed; will retry")
            await asyncio.sleep(RECOVERY_INTERVAL_SECONDS)
    finally:
        store.close()


async def _speech_server_exit(speech: SpeechServerProcess | None) -> None:
    if speech is None:
        await asyncio.Event().wait()  # no speech server (gemini): never
        return
    while speech.alive():
        await asyncio.sleep(1.0)


async def _heartbeat(
    settings: Settings, server: AgentServer, load: WorkerLoad, state: Callable[[], WorkerState]
) -> None:
    """Tell the store what this worker can take: the api says "busy" to a candidate when no fresh worker
    has room, instead of sending them into a silent room. A beat is written every HEARTBEAT_SECONDS, and
    at once when the count of interviews or the readiness to take more changes: the api's view of a slot
    is then as old as one database write, not one heartbeat."""
    store = Store(settings.resolved_database_url)
    worker_id = ""
    last: tuple[int, bool] | None = None
    written_at = -HEARTBEAT_SECONDS
    try:
        while True:
            if state() in (WorkerState.ready, WorkerState.draining) and server.id != "unregistered":
                worker_id = server.id
                reading = load.reading(len(server.active_jobs))
                now = (reading.active, state() is WorkerState.ready and reading.accepting)
                if now != last or time.monotonic() - written_at >= HEARTBEAT_SECONDS:
                    try:
                        if last is not None and now[0] != last[0]:
                            # LiveKit first. A freed slot: the api may admit a candidate the moment the beat
                            # lands. A taken one: LiveKit offers no job to a worker that would refuse it
                            # (a refusal sent a dispatch back to recovery for another pass).
                            await compat.announce_load(server)
                        await asyncio.to_thread(
                            fleet.beat,
                            store,
                            worker_id,
                            capacity=reading.capacity,
                            active=reading.active,
                            load=reading.load,
                            accepting=now[1],
                        )
                        last, written_at = now, time.monotonic()
                    except Exception:
                        log.exception("heartbeat failed; will retry")
            await asyncio.sleep(HEARTBEAT_CHECK_SECONDS)
    finally:
        if worker_id:
            with contextlib.suppress(Exception):
                fleet.forget_worker(store, worker_id)
        store.close()


async def _drain(server: AgentServer, settings: Settings) -> None:
    """Stop taking jobs, ask every live interview to close, and wait for them within the drain timeout."""
    timeout = settings.drain_timeout_seconds
    drained = asyncio.create_task(server.drain(timeout=timeout))  # marks the worker full at once
    try:
        _ask_jobs_to_close(server)
        await drained  # the jobs end themselves: closing line, report, room deleted
    except TimeoutError:
        log.warning("drain timed out after %ds; stopping the remaining jobs", timeout)
        await compat.close_job_processes(server)
    finally:
        drained.cancel()


def _ask_jobs_to_close(server: AgentServer) -> None:
    """SIGUSR1 to each running job process (see entrypoint.CLOSE_SIGNAL).

    livekit's own ShutdownRequest gives the entrypoint 15 s and then closes the session before any shutdown
    callback runs, so a drained interview would lose its closing line and wait 15 s for nothing. The signal
    lets the job end the interview itself, at once and politely.
    """
    for process in compat.job_processes(server):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, CLOSE_SIGNAL)


async def _force(server: AgentServer, settings: Settings) -> None:
    """The second signal: no closing lines and no reports, but nobody is left in a silent room. Delete the
    live interviews' rooms (the candidates are let go at once), then exit: the forkserver and the job
    processes die with this process (PDEATHSIG, see orphans.py), and every turn is already stored."""
    rooms = [process.room for process in compat.job_processes(server)]
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            asyncio.gather(*(delete_room(settings, room) for room in rooms), return_exceptions=True),
            FORCED_ROOM_DELETE_TIMEOUT,
        )
    logging.shutdown()
    os._exit(EXIT_FORCED)


def main() -> int:
    settings = get_settings()
    configure_logging(settings)
    return asyncio.run(serve(settings))
