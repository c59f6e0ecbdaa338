"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from interviewer.agent.recovery import finish_orphans_nobody_took
from interviewer.api.deps import Services
from interviewer.api.plans_routes import plans
from interviewer.api.problems import install_problem_handlers, install_problem_openapi
from interviewer.api.ratelimit import BodySizeLimit, build_limiters
from interviewer.api.routes import interviews, public
from interviewer.auth import IdentityVerifier
from interviewer.config import Settings
from interviewer.store import Store

log = logging.getLogger(__name__)

READ_BUDGET_FACTOR = 10  # reads (status polling) get ten times the write budget
ORPHAN_SWEEP_SECONDS = 5.0


async def _finish_orphans(settings: Settings, store: Store) -> None:
    """Every api instance finishes interviews whose job died and that no worker took over in time: with
    no worker left, nobody else would, and they would stay `live` for good (see agent/recovery.py)."""
    while True:
        await asyncio.sleep(ORPHAN_SWEEP_SECONDS)
        try:
            await finish_orphans_nobody_took(settings, store)
        except Exception:
            log.exception("finishing orphaned interviews failed; will retry")


def create_app(settings: Settings, store: Store, verifier: IdentityVerifier) -> FastAPI:
    """The api: identity-verified interview credentials, problem+json errors, the web client at /."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_finish_orphans(settings, store))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            limiters.close()

    redis_url = settings.redis_url.get_secret_value() if settings.redis_url is not None else None
    limiters = build_limiters(settings.rate_limit_per_minute, READ_BUDGET_FACTOR, redis_url)
    app = FastAPI(
        lifespan=lifespan,
        title="Interviewer API",
        version="1.0.0",
        description=(
            "Identity and token service of Interviewer. Every /v1/interviews call needs a Firebase ID token "
            "(Authorization: Bearer). Errors are application/problem+json."
        ),
    )
    app.state.services = Services(
        settings=settings,
        store=store,
        verifier=verifier,
        write_limiter=limiters.write,
        read_limiter=limiters.read,
    )
    install_problem_handlers(app)
    app.include_router(interviews)
    app.include_router(public)
    app.include_router(plans)
    install_problem_openapi(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    web_dist = settings.web_dist_dir
    if web_dist.is_dir():
        # After every API route, so /v1/*, /healthz, /readyz and /openapi.json always win.
        app.mount("/", StaticFiles(directory=web_dist, html=True), name="web")
    else:
        log.info("no built web client at %s: serving the api only", web_dist)
    return app
