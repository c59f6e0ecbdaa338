"""The worker's health server: bound first, before any model loads, so a platform probe never kills a
worker that is still warming up.

`/healthz` is liveness (the event loop answers). `/readyz` is the truth about taking interviews: 200 only
while registered with LiveKit and not draining; 503 while connecting, reconnecting or draining.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from interviewer import __version__
from interviewer.agent import compat


class WorkerState(enum.StrEnum):
    starting = "starting"  # loading, not yet connected
    connecting = "connecting"  # (re)connecting to LiveKit
    ready = "ready"  # registered, accepting jobs
    draining = "draining"  # SIGTERM: finishing live interviews, taking no new ones
    stopped = "stopped"


@dataclass
class HealthServer:
    host: str
    port: int
    state: Callable[[], WorkerState]
    active_interviews: Callable[[], int] = lambda: 0
    worker_id: Callable[[], str] = lambda: ""
    jobs: Callable[[], list[dict[str, object]]] = lambda: []
    load: Callable[[], dict[str, object]] = lambda: {}
    _runner: web.AppRunner | None = field(default=None, init=False)

    async def start(self) -> int:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        bound = compat.bound_port(site)
        if self.port == 0 and bound is not None:
            self.port = bound
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _body(self) -> dict[str, object]:
        return {
            "state": self.state().value,
            "active_interviews": self.active_interviews(),
            "worker_id": self.worker_id(),
            "version": __version__,
            "jobs": self.jobs(),
            "load": self.load(),
        }

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response(self._body())

    async def _readyz(self, _request: web.Request) -> web.Response:
        body = self._body()
        return web.json_response(body, status=200 if body["state"] == WorkerState.ready.value else 503)
