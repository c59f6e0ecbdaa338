"""Fails when a livekit-agents (or aiohttp) upgrade changes a private field that agent/compat.py reads.

Each check names the field, where it lives and what we expect of it, so the failure says what to mend.
The fields are read on real objects where they exist before `run()`, and in the class source where
livekit creates them inside `run()` (a running worker needs a LiveKit server; the integration tests cover
the values at run time through /healthz and the lifecycle cycles).
"""

from __future__ import annotations

import asyncio
import inspect

import pytest
from aiohttp import web
from livekit.agents import AgentServer
from livekit.agents.ipc import job_proc_executor, proc_pool, supervised_proc

from interviewer.agent import compat


def _server() -> AgentServer:
    return AgentServer(ws_url="ws://127.0.0.1:1", api_key="k", api_secret="s")


def test_the_connection_flags_exist_before_run() -> None:
    server = _server()
    for name in ("_closed", "_connecting", "_connection_failed"):
        assert isinstance(getattr(server, name), bool), f"AgentServer.{name} is no longer a bool"
    assert server.id == "unregistered", "AgentServer.id no longer says 'unregistered' before registration"
    assert compat.connection(server) is compat.Connection.starting


def test_the_pool_and_the_reserved_slots_are_created_by_run() -> None:
    source = inspect.getsource(AgentServer.run)
    assert "self._proc_pool = ipc.proc_pool.ProcPool(" in source, "AgentServer._proc_pool moved"
    assert "self._reserved_slots" in source, "AgentServer._reserved_slots moved"
    assert compat.job_processes(_server()) == []
    assert compat.reserved_slots(_server()) == 0


def test_the_worker_can_send_its_load_and_status_at_once() -> None:
    for name in ("_refresh_worker_load", "_update_worker_status"):
        method = getattr(AgentServer, name, None)
        assert method is not None, f"AgentServer.{name} is gone"
        assert inspect.iscoroutinefunction(method), f"AgentServer.{name} is no longer a coroutine"
        assert list(inspect.signature(method).parameters) == ["self"], f"AgentServer.{name} takes arguments"
    asyncio.run(compat.announce_load(_server()))  # before run(): a no-op, not an error


def test_the_pool_lists_processes_and_emits_process_closed() -> None:
    assert isinstance(inspect.getattr_static(proc_pool.ProcPool, "processes"), property)
    assert "process_closed" in inspect.getsource(proc_pool), "ProcPool no longer emits process_closed"


def test_a_job_executor_has_pid_exitcode_and_running_job() -> None:
    executor = job_proc_executor.ProcJobExecutor
    assert isinstance(inspect.getattr_static(executor, "running_job"), property)
    for name in ("pid", "exitcode"):
        assert isinstance(inspect.getattr_static(supervised_proc.SupervisedProc, name), property), name
    assert issubclass(executor, supervised_proc.SupervisedProc)
    assert callable(executor.aclose)


def test_the_cpu_monitor_reports_a_fraction() -> None:
    from livekit.agents.utils import hw

    monitor = hw.get_cpu_monitor()
    assert 0.0 <= monitor.cpu_percent(interval=0.05) <= 1.0


@pytest.mark.asyncio
async def test_a_tcp_site_reports_its_bound_port() -> None:
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    assert compat.bound_port(site) is None
    await site.start()
    try:
        port = compat.bound_port(site)
        assert port is not None and port > 0
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
        del reader
    finally:
        await runner.cleanup()


def test_the_gemini_session_keeps_its_resumption_handle_and_dials_through_its_client() -> None:
    from livekit.plugins.google.realtime.realtime_api import RealtimeSession

    init = inspect.getsource(RealtimeSession.__init__)
    assert "self._session_resumption_handle: str | None" in init, "RealtimeSession's handle field moved"
    assert "self._client = GenAIClient(" in init, "RealtimeSession._client moved"
    main = inspect.getsource(RealtimeSession._main_task)
    assert "self._client.aio.live.connect(" in main, "the plugin no longer dials through aio.live.connect"
    # A cleared handle must send the plugin down its fresh-session path (the whole history, no handle).
    assert "if self._session_resumption_handle is not None:" in main
    config = inspect.getsource(RealtimeSession._build_connect_config)
    assert "handle=self._session_resumption_handle" in config, "the setup no longer presents the handle"


@pytest.mark.asyncio
async def test_the_gemini_handle_is_read_cleared_and_the_connection_wrapped_on_a_real_session() -> None:
    from google.genai import types
    from livekit.plugins import google

    model = google.realtime.RealtimeModel(
        api_key="fake-key",
        session_resumption=types.SessionResumptionConfig(handle="stale-handle"),
        http_options=types.HttpOptions(base_url="https://127.0.0.1:1"),
    )
    session = model.session()
    try:
        assert compat.gemini_resumption_handle(session) == "stale-handle"
        assert session.session_resumption_handle == "stale-handle"  # the plugin's public read agrees
        compat.clear_gemini_resumption_handle(session)
        assert compat.gemini_resumption_handle(session) is None
        assert session.session_resumption_handle is None
        original = session._client.aio.live.connect
        wrapped: list[object] = []

        def wrap(connect: compat.GeminiConnect) -> compat.GeminiConnect:
            wrapped.append(connect)
            return connect

        compat.wrap_gemini_connect(session, wrap)
        assert wrapped == [original]
    finally:
        await session.aclose()
