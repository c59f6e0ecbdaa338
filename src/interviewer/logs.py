"""One logging setup for every process (api, agent worker): lines on stderr, text or JSON, and no secret in
any of them.

Libraries log more than we do: at DEBUG, `websockets` prints every request header, which is where
google-genai puts the Gemini API key. So the handler's formatter redacts every configured secret from the
finished line (message, arguments and traceback alike) instead of trusting each logger to behave.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterable
from typing import TextIO

from sqlalchemy.engine import make_url

from interviewer.config import ConfigError, Settings

REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MIN_SECRET_LENGTH = 8  # shorter values would redact ordinary words


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the field names Cloud Logging reads (`severity`, `message`)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "time": self.formatTime(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class RedactingFormatter(logging.Formatter):
    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        for secret in self.secrets:
            line = line.replace(secret, REDACTED)
        return line


def secrets_of(settings: Settings) -> list[str]:
    secrets = []
    with contextlib.suppress(ConfigError):
        secrets.append(settings.livekit_secret())
    if settings.google_api_key is not None:
        secrets.append(settings.google_api_key.get_secret_value())
    if settings.pipeline_llm_api_key is not None:
        secrets.append(settings.pipeline_llm_api_key.get_secret_value())
    with contextlib.suppress(Exception):
        password = make_url(settings.resolved_database_url).password
        if password:
            secrets.append(str(password))
    return secrets


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Replace the root logger's handlers with one redacting handler; returns it (tests remove it)."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    inner = JsonFormatter() if settings.log_json else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(RedactingFormatter(inner, secrets_of(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    return handler
