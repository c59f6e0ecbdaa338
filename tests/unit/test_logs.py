"""Every process's log lines go through one redacting formatter: no configured secret survives in them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from interviewer.config import load_settings
from interviewer.logs import REDACTED, configure_logging

LIVEKIT_SECRET = "lk-secret-" + "x" * 40
GOOGLE_KEY = "google-key-0123456789"
DB_PASSWORD = "db-pass-s3cr3t"


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("log_json", ["false", "true"])
def test_secrets_are_redacted_from_messages_arguments_and_tracebacks(
    root_restored: None, log_json: str
) -> None:
    settings = load_settings(
        INTERVIEWER_MODE="test",
        LIVEKIT_API_SECRET=LIVEKIT_SECRET,
        GOOGLE_API_KEY=GOOGLE_KEY,
        DATABASE_URL=f"postgresql+psycopg://interviewer:{DB_PASSWORD}@db/interviewer",
        LOG_JSON=log_json,
    )
    out = io.StringIO()
    configure_logging(settings, stream=out)
    log = logging.getLogger("some.library")
    log.info("connecting with secret %s", LIVEKIT_SECRET)
    log.debug("> x-goog-api-key: %s", GOOGLE_KEY)  # not emitted: the default level is INFO
    log.warning("> x-goog-api-key: %s", GOOGLE_KEY)
    try:
        raise RuntimeError(f"could not connect to postgresql://interviewer:{DB_PASSWORD}@db")
    except RuntimeError:
        log.exception("database down")
    text = out.getvalue()
    for secret in (LIVEKIT_SECRET, GOOGLE_KEY, DB_PASSWORD):
        assert secret not in text
    assert text.count(REDACTED) == 3
    lines = text.splitlines()
    if log_json == "true":
        assert [json.loads(line)["severity"] for line in lines] == ["INFO", "WARNING", "ERROR"]
