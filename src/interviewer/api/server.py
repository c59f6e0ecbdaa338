"""Run the api under uvicorn: `python -m interviewer.api` (or `serve(settings)` from the supervisor/cli)."""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

import uvicorn

from interviewer.api.app import create_app
from interviewer.auth.firebase import EMULATOR_ENV, FirebaseVerifier
from interviewer.config import ConfigError, Settings
from interviewer.logs import configure_logging
from interviewer.store import Store

log = logging.getLogger("interviewer.api")

EXIT_CONFIG = 2


def refuse(message: str) -> NoReturn:
    print(f"interviewer api: refusing to start: {message}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_CONFIG)


def check_startup(settings: Settings) -> None:
    """The checks that make the api refuse to start (exit code 2) instead of running unsafely."""
    emulator = settings.firebase_auth_emulator_host or os.environ.get(EMULATOR_ENV)
    if emulator and not settings.is_dev:
        refuse(
            f"{EMULATOR_ENV} is set while INTERVIEWER_MODE={settings.mode.value}. The Auth emulator accepts "
            "unsigned ID tokens; it is allowed only with INTERVIEWER_MODE=development or test."
        )
    try:
        settings.livekit_secret()
    except ConfigError as error:
        refuse(str(error))


def serve(settings: Settings) -> None:
    """Build the store, the verifier and the app, and serve on settings.api_host:api_port until signalled."""
    check_startup(settings)
    configure_logging(settings)
    if settings.firebase_auth_emulator_host:
        # firebase-admin reads the variable from the environment on each call; a value that came from .env
        # must be there too (development/test only, checked above).
        os.environ[EMULATOR_ENV] = settings.firebase_auth_emulator_host
    try:
        verifier = FirebaseVerifier(settings)
    except ConfigError as error:
        refuse(str(error))
    store = Store(settings.resolved_database_url)
    host, port = settings.listen_address(settings.api_host, settings.api_port)
    try:
        app = create_app(settings, store, verifier)
        log.info(
            "api on http://%s:%d (mode %s, identity %s)",
            host,
            port,
            settings.mode.value,
            "Firebase Auth emulator" if verifier.emulated else f"Firebase project {verifier.project_id}",
        )
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            access_log=False,
            server_header=False,
            proxy_headers=False,
            log_config=None,
        )
    finally:
        store.close()
        verifier.close()
