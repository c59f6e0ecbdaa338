"""Every private field of livekit-agents (and its plugins, and aiohttp) this project reads, in one place.

livekit-agents has no public API for whether the worker is registered, for its job processes, for the slots
it has promised but not launched yet, for telling LiveKit its load at once, for a job process that died,
or for the Gemini plugin's resumption handle. We use those fields and methods here and nowhere else,
read-only but for that handle (cleared when the server refuses it) and the load update (sent early), and
`tests/unit/test_compat.py` fails when an upgrade renames or retypes any of them: after an upgrade, that
test is the first thing to run and this module the only one to mend.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from livekit.agents import AgentServer

if TYPE_CHECKING:
    from google.genai.live import AsyncSession
    from livekit.plugins.google.realtime.realtime_api import RealtimeSession


class Connection(enum.StrEnum):
    starting = "starting"  # run() has not started yet (or the server is closed)
    connecting = "connecting"  # (re)connecting to LiveKit, or the connection failed for good
    registered = "registered"


@dataclass(frozen=True)
class JobProcess:
    """A job process that is running an interview: what an operator needs to find it."""

    pid: int
    job_id: str
    room: str
    exitcode: int | None


class _Executor(Protocol):
    # The duck type of livekit's job executors (ProcJobExecutor, ThreadJobExecutor).
    @property
    def pid(self) -> int | None: ...
    @property
    def exitcode(self) -> int | None: ...
    @property
    def running_job(self) -> Any: ...


def connection(server: AgentServer) -> Connection:
    if getattr(server, "_closed", True):
        return Connection.starting
    if getattr(server, "_connection_failed", False) or getattr(server, "_connecting", True):
        return Connection.connecting
    if server.id == "unregistered":
        return Connection.connecting
    return Connection.registered


def _pool(server: AgentServer) -> Any:
    return getattr(server, "_proc_pool", None)  # created by run()


def _describe(executor: _Executor) -> JobProcess | None:
    info = executor.running_job
    if info is None or executor.pid is None:
        return None
    return JobProcess(
        pid=executor.pid, job_id=info.job.id, room=info.job.room.name, exitcode=executor.exitcode
    )


def job_processes(server: AgentServer) -> list[JobProcess]:
    """The processes that are running a job right now (idle, warmed processes are not listed)."""
    pool = _pool(server)
    if pool is None:
        return []
    described = (_describe(executor) for executor in list(pool.processes))
    return [process for process in described if process is not None]


async def close_job_processes(server: AgentServer) -> None:
    """Stop every process that is running a job (the end of a drain that timed out)."""
    pool = _pool(server)
    if pool is None:
        return
    running = [executor for executor in list(pool.processes) if executor.running_job is not None]
    await asyncio.gather(*(executor.aclose() for executor in running), return_exceptions=True)


def idle_processes(server: AgentServer) -> int:
    """Warmed processes waiting for a job."""
    pool = _pool(server)
    if pool is None:
        return 0
    return sum(1 for executor in list(pool.processes) if executor.running_job is None)


def reserved_slots(server: AgentServer) -> int:
    """Jobs the worker has said "available" to whose process has not started yet."""
    return int(getattr(server, "_reserved_slots", 0))


async def announce_load(server: AgentServer) -> None:
    """Send LiveKit this worker's load and status now, not at its next periodic update: a slot freed by a
    job that ended is then offered at once (the api, which learns of it from the store, may already have
    admitted a candidate for it), and a slot just taken is not offered again."""
    if getattr(server, "_closed", True) or server.id == "unregistered":
        return
    await server._refresh_worker_load()
    await server._update_worker_status()


def on_job_process_closed(server: AgentServer, callback: Callable[[JobProcess], None]) -> bool:
    """Call `callback` when a process that was running a job exits. False if the pool does not exist yet."""
    pool = _pool(server)
    if pool is None:
        return False

    def closed(executor: _Executor) -> None:
        process = _describe(executor)
        if process is not None:
            callback(process)

    pool.on("process_closed", closed)
    return True


def bound_port(site: web.TCPSite) -> int | None:
    """The port a TCPSite bound (for port 0), or None before start()."""
    server = site._server
    sockets = getattr(server, "sockets", None)
    if not sockets:
        return None
    return int(sockets[0].getsockname()[1])


# -- Gemini Live (livekit-plugins-google) -----------------------------------------------------------------
# The plugin keeps the newest session-resumption handle in `RealtimeSession._session_resumption_handle`
# and presents it on every reconnect; when the server refuses it the plugin has no way out (it treats the
# failed setup as fatal). To open a fresh session instead, the engine clears the handle and dials through
# the session's own google-genai client (`RealtimeSession._client`), whose public `aio.live.connect` the
# plugin calls for each connection.

GeminiConnect = Callable[..., AbstractAsyncContextManager["AsyncSession"]]


def gemini_resumption_handle(session: RealtimeSession) -> str | None:
    handle = getattr(session, "_session_resumption_handle", None)
    return handle if isinstance(handle, str) else None


def clear_gemini_resumption_handle(session: RealtimeSession) -> None:
    """The next connection starts a new server session (and the plugin sends its history afresh)."""
    if not hasattr(session, "_session_resumption_handle"):
        raise AttributeError("RealtimeSession._session_resumption_handle is gone: mend agent/compat.py")
    session._session_resumption_handle = None


def wrap_gemini_connect(session: RealtimeSession, wrap: Callable[[GeminiConnect], GeminiConnect]) -> None:
    """Route this session's connections through `wrap(connect)`. Call it before the session's first
    connection (right after it is created: its connect loop starts on the next turn of the event loop)."""
    live = session._client.aio.live
    live.connect = wrap(live.connect)  # type: ignore[method-assign,assignment]
