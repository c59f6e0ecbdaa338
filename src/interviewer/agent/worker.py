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
from collections.abc import Callable
from typing import Any

from livekit.agents import AgentServer, JobProcess

from interviewer.agent.entrypoint import CLOSE_SIGNAL, run_interview
from interviewer.agent.health import HealthServer, WorkerState
from interviewer.agent.recovery import recover_missed_dispatches
from interviewer.config import Settings, get_settings
from interviewer.logs import configure_logging
from interviewer.parent_death import die_with_parent
from interviewer.rooms import delete_room
from interviewer.store import Store
from interviewer.voice.engine import prewarm_speech

log = logging.getLogger("interviewer.worker")

RECOVERY_INTERVAL_SECONDS = 2.0
FORCED_ROOM_DELETE_TIMEOUT = 3.0
JOB_NICENESS = 5
EXIT_FORCED = 1  # not a clean drain: the interviews cut off by the second signal were not scored
# Imported once in the forkserver: ties the forkserver to this process and every job process to the
# forkserver with PR_SET_PDEATHSIG, from the instant of fork (see orphans.py).
FORKSERVER_PRELOAD = ["interviewer.agent.orphans"]


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


def build_server(settings: Settings) -> AgentServer:
    server = AgentServer(
        ws_url=settings.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_secret(),
        setup_fnc=prewarm,
        drain_timeout=settings.drain_timeout_seconds,
        num_idle_processes=1,
        initialize_process_timeout=90.0,
        shutdown_process_timeout=15.0,
        host="127.0.0.1",
        port=0,  # livekit's own health server: ours (HealthServer) is the one probes use
        # Capacity is counted in interviews, not CPU: a CPU spike while a job process loads its models
        # would otherwise mark the worker full and leave a candidate waiting for an agent.
        load_fnc=lambda agent_server: len(agent_server.active_jobs) / settings.max_interviews_per_worker,
        load_threshold=1.0,
        preload_modules=FORKSERVER_PRELOAD,
    )
    server.rtc_session(run_interview, agent_name=settings.agent_name)
    return server


def _state(server: AgentServer, draining: bool) -> WorkerState:
    # AgentServer has no public "registered" flag; these private fields are read-only here and checked
    # against the pinned livekit-agents 1.8.9.
    if draining or server.draining:
        return WorkerState.draining
    if getattr(server, "_connection_failed", False) or getattr(server, "_closed", True):
        return WorkerState.connecting if not getattr(server, "_closed", True) else WorkerState.starting
    if server.id == "unregistered" or getattr(server, "_connecting", True):
        return WorkerState.connecting
    return WorkerState.ready


async def serve(settings: Settings) -> int:
    host, port = settings.listen_address("127.0.0.1", settings.agent_health_port)
    draining = False
    server = build_server(settings)
    health = HealthServer(
        host=host,
        port=port,
        state=lambda: _state(server, draining),
        active_interviews=lambda: len(server.active_jobs),
        worker_id=lambda: server.id,
        jobs=lambda: _jobs(server),
    )
    bound = await health.start()
    log.info("health server on port %d", bound)

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
    recovery = asyncio.create_task(_recover_dispatches(settings, lambda: _state(server, draining)))
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({run, stopper}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if run.done() and not stopper.done():
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
        if not run.done():
            run.cancel()
            with contextlib.suppress(BaseException):
                await run
    return code


def _running(server: AgentServer) -> list[Any]:
    pool = getattr(server, "_proc_pool", None)
    return [p for p in list(getattr(pool, "processes", [])) if getattr(p, "running_job", None) is not None]


def _jobs(server: AgentServer) -> list[dict[str, object]]:
    """The live job processes (pid, job id, room) for the health body: what an operator needs to find one."""
    return [
        {"pid": p.pid, "job_id": p.running_job.job.id, "room": p.running_job.job.room.name}
        for p in _running(server)
    ]


_background: set[asyncio.Task[Any]] = set()


def _watch_crashed_jobs(server: AgentServer, settings: Settings) -> None:
    """A job process that dies without closing its interview (killed, OOM, segfault) cannot delete its room:
    the candidate would sit in a silent room until they leave. The parent notices and deletes it, so the
    candidate is disconnected at once (the web client shows the end). The transcript is already stored turn
    by turn. A clean exit (code 0) deleted its own room; deleting twice would be harmless anyway."""
    pool = getattr(server, "_proc_pool", None)
    if pool is None:
        return

    def on_closed(proc: Any) -> None:
        info = getattr(proc, "running_job", None)
        if info is None or proc.exitcode == 0:
            return
        room = info.job.room.name
        log.warning(
            "job process %s for room %s died (exit %s); deleting the room", proc.pid, room, proc.exitcode
        )
        task = asyncio.get_running_loop().create_task(_delete_room_quietly(settings, room))
        _background.add(task)
        task.add_done_callback(_background.discard)

    pool.on("process_closed", on_closed)


async def _delete_room_quietly(settings: Settings, room: str) -> None:
    try:
        await delete_room(settings, room)
    except Exception:
        log.exception("could not delete room %s of a crashed job", room)


async def _recover_dispatches(settings: Settings, state: Callable[[], WorkerState]) -> None:
    """While ready, re-dispatch agents to rooms whose token dispatch found no worker (see recovery.py)."""
    store = Store(settings.resolved_database_url)
    try:
        while True:
            if state() is WorkerState.ready:
                try:
                    await recover_missed_dispatches(settings, store)
                except Exception:
                    log.exception("dispatch recovery failed; will retry")
            await asyncio.sleep(RECOVERY_INTERVAL_SECONDS)
    finally:
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
        await asyncio.gather(*(proc.aclose() for proc in _running(server)), return_exceptions=True)
    finally:
        drained.cancel()


def _ask_jobs_to_close(server: AgentServer) -> None:
    """SIGUSR1 to each running job process (see entrypoint.CLOSE_SIGNAL).

    livekit's own ShutdownRequest gives the entrypoint 15 s and then closes the session before any shutdown
    callback runs, so a drained interview would lose its closing line and wait 15 s for nothing. The signal
    lets the job end the interview itself, at once and politely.
    """
    for proc in _running(server):
        pid = getattr(proc, "pid", None)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, CLOSE_SIGNAL)


async def _force(server: AgentServer, settings: Settings) -> None:
    """The second signal: no closing lines and no reports, but nobody is left in a silent room. Delete the
    live interviews' rooms (the candidates are let go at once), then exit: the forkserver and the job
    processes die with this process (PDEATHSIG, see orphans.py), and every turn is already stored."""
    rooms = [proc.running_job.job.room.name for proc in _running(server)]
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
