"""Every knob of Interviewer, read from the environment or `.env`.

One `Settings` object is the only place configuration comes from. A wrong value fails fast with a message that
names the variable, so a misconfigured deployment dies at start-up instead of mid-interview.
"""

from __future__ import annotations

import enum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Mode(enum.StrEnum):
    """Where the process runs; `production` forbids every development shortcut."""

    development = "development"
    test = "test"
    production = "production"


class VoiceEngine(enum.StrEnum):
    offline = "offline"
    gemini = "gemini"
    pipeline = "pipeline"


# Only for the local livekit-server in development/test; production refuses to start without a real one.
DEV_LIVEKIT_SECRET = "interviewer-dev-secret-local-only-0123456789"


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Production unless told otherwise: development shortcuts (the auth emulator, the dev LiveKit secret) must
    # be asked for explicitly, never reached by forgetting a variable.
    mode: Mode = Field(default=Mode.production, alias="INTERVIEWER_MODE")
    log_json: bool = Field(default=False, alias="LOG_JSON")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")

    # Persistence: SQLite (WAL) under ./var by default, Postgres by URL.
    data_dir: Path = Field(default=Path("var"), alias="INTERVIEWER_DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")

    # Interview defaults.
    default_duration_minutes: int = Field(default=20, ge=5, le=60, alias="INTERVIEW_DEFAULT_MINUTES")

    # LiveKit.
    livekit_url: str = Field(default="ws://127.0.0.1:7880", alias="LIVEKIT_URL")
    livekit_api_key: str = Field(default="devkey", alias="LIVEKIT_API_KEY")
    livekit_api_secret: SecretStr | None = Field(default=None, alias="LIVEKIT_API_SECRET")
    livekit_server_bin: Path | None = Field(default=None, alias="LIVEKIT_SERVER_BIN")
    token_ttl_seconds: int = Field(default=600, ge=30, le=600, alias="TOKEN_TTL_SECONDS")
    agent_name: str = Field(default="interviewer", alias="AGENT_NAME")
    room_empty_timeout_seconds: int = Field(default=120, ge=10, le=3600, alias="ROOM_EMPTY_TIMEOUT_SECONDS")
    room_departure_timeout_seconds: int = Field(
        default=60, ge=5, le=3600, alias="ROOM_DEPARTURE_TIMEOUT_SECONDS"
    )

    # Identity (Firebase).
    firebase_project_id: str = Field(default="demo-interviewer", alias="FIREBASE_PROJECT_ID")
    firebase_auth_emulator_host: str | None = Field(default=None, alias="FIREBASE_AUTH_EMULATOR_HOST")
    firebase_check_revoked: bool = Field(default=False, alias="FIREBASE_CHECK_REVOKED")
    # Public web config (served by GET /v1/config; none of it is secret).
    firebase_web_api_key: str = Field(default="demo-api-key", alias="FIREBASE_WEB_API_KEY")
    firebase_auth_domain: str | None = Field(default=None, alias="FIREBASE_AUTH_DOMAIN")
    # The pinned Firebase CLI for the local emulator (default: tools/firebase/node_modules/.bin/firebase).
    firebase_cli: Path | None = Field(default=None, alias="FIREBASE_CLI")

    # Container platforms (Cloud Run) name the one port to serve on, and probe it from outside the container.
    platform_port: int | None = Field(default=None, ge=1, le=65535, alias="PORT")
    # The interface $PORT is served on: every interface in a container; tests pin it to loopback.
    platform_host: str = Field(default="0.0.0.0", alias="PLATFORM_HOST")

    # Api.
    api_host: str = Field(default="127.0.0.1", alias="API_HOST")
    api_port: int = Field(default=8000, ge=1, le=65535, alias="API_PORT")
    rate_limit_per_minute: int = Field(default=30, ge=1, le=100_000, alias="RATE_LIMIT_PER_MINUTE")
    # Shared rate-limit budgets for several api instances (a URL may hold a password: kept secret).
    redis_url: SecretStr | None = Field(default=None, alias="REDIS_URL")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=10 * 1024 * 1024, alias="MAX_BODY_BYTES")
    # How long the web client waits for the agent to join before it gives up on an interview.
    agent_join_timeout_seconds: int = Field(default=20, ge=1, le=300, alias="AGENT_JOIN_TIMEOUT_SECONDS")
    # The built web client, served at / when the directory exists.
    web_dist_dir: Path = Field(default=Path("web/dist"), alias="WEB_DIST_DIR")

    # Agent worker.
    voice_engine: VoiceEngine = Field(default=VoiceEngine.offline, alias="VOICE_ENGINE")
    agent_health_port: int = Field(default=8081, ge=0, le=65535, alias="AGENT_HEALTH_PORT")
    max_interviews_per_worker: int = Field(default=2, ge=1, le=64, alias="MAX_INTERVIEWS_PER_WORKER")
    drain_timeout_seconds: int = Field(default=30, ge=1, le=3600, alias="DRAIN_TIMEOUT_SECONDS")
    # The worker reports itself full when recent replies are slower than this (p95) or the CPU is this busy.
    # A reply's latency includes the offline turn-taking's silence, so one interview alone sits near 2-3.3 s
    # p95 here; a budget under that would make every worker "full" from its first interview on. This one is
    # the p95 measured at the default capacity (bench/burst.py) with a margin: past it, replies are degrading.
    reply_budget_seconds: float = Field(default=4.5, gt=0, le=30, alias="REPLY_BUDGET_SECONDS")
    cpu_full_fraction: float = Field(default=0.9, gt=0, le=1, alias="CPU_FULL_FRACTION")
    # An interview whose job died and that no worker took over within this is finished from what was saved.
    takeover_timeout_seconds: int = Field(default=60, ge=5, le=600, alias="TAKEOVER_TIMEOUT_SECONDS")
    # The api answers "busy" (503 + Retry-After) when every registered worker is full.
    busy_retry_after_seconds: int = Field(default=20, ge=1, le=600, alias="BUSY_RETRY_AFTER_SECONDS")
    stt_model_dir: Path | None = Field(default=None, alias="STT_MODEL_DIR")
    tts_voice_path: Path | None = Field(default=None, alias="TTS_VOICE_PATH")
    google_api_key: SecretStr | None = Field(default=None, alias="GOOGLE_API_KEY")
    gemini_model: str = Field(default="gemini-2.5-flash-native-audio-preview-12-2025", alias="GEMINI_MODEL")
    # Another endpoint for the Gemini Live API (a regional proxy; the tests' named fake). Unset: Google's.
    gemini_base_url: str | None = Field(default=None, alias="GEMINI_BASE_URL")
    # Gemini through Vertex AI instead of an API key: a project, a region, and a service account key file
    # (unset: the platform's own identity, e.g. Cloud Run's service account).
    gemini_vertexai: bool = Field(default=False, alias="GEMINI_VERTEXAI")
    google_cloud_project: str | None = Field(default=None, alias="GOOGLE_CLOUD_PROJECT")
    google_cloud_location: str = Field(default="us-central1", alias="GOOGLE_CLOUD_LOCATION")
    google_application_credentials: Path | None = Field(default=None, alias="GOOGLE_APPLICATION_CREDENTIALS")
    gemini_voice: str = Field(default="Puck", alias="GEMINI_VOICE")
    gemini_language: str = Field(default="en-US", alias="GEMINI_LANGUAGE")
    # Unset: the model's own default.
    gemini_temperature: float | None = Field(default=None, ge=0, le=2, alias="GEMINI_TEMPERATURE")
    # How long the candidate may wait, after they stop speaking, for the model to start its reply before it
    # is asked again (once), then a line is spoken in its place.
    gemini_reply_timeout_seconds: float = Field(
        default=5.0, gt=0, le=30, alias="GEMINI_REPLY_TIMEOUT_SECONDS"
    )
    # The pipeline engine: offline VAD/STT/TTS around any OpenAI-compatible chat model (OpenAI, or a local
    # Ollama or vLLM server). The key is optional because local servers take none; it only ever travels in
    # the Authorization header.
    pipeline_llm_base_url: str = Field(default="https://api.openai.com/v1", alias="PIPELINE_LLM_BASE_URL")
    pipeline_llm_model: str = Field(default="gpt-4.1-mini", alias="PIPELINE_LLM_MODEL")
    pipeline_llm_api_key: SecretStr | None = Field(default=None, alias="PIPELINE_LLM_API_KEY")
    pipeline_llm_temperature: float = Field(default=0.4, ge=0, le=2, alias="PIPELINE_LLM_TEMPERATURE")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return upper

    @field_validator("livekit_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.mode is Mode.production and self.firebase_auth_emulator_host:
            raise ValueError(
                "FIREBASE_AUTH_EMULATOR_HOST is set while INTERVIEWER_MODE=production: the emulator "
                "accepts unsigned tokens, so it is refused outside development/test"
            )
        if self.livekit_api_secret is not None and len(self.livekit_api_secret.get_secret_value()) < 32:
            raise ValueError("LIVEKIT_API_SECRET must be at least 32 characters")
        return self

    @property
    def is_dev(self) -> bool:
        return self.mode in (Mode.development, Mode.test)

    def livekit_secret(self) -> str:
        """The LiveKit API secret; in development/test a fixed local one, in production it must be set."""
        if self.livekit_api_secret is not None:
            return self.livekit_api_secret.get_secret_value()
        if self.is_dev:
            return DEV_LIVEKIT_SECRET
        raise ConfigError("LIVEKIT_API_SECRET: required when INTERVIEWER_MODE=production")

    def listen_address(self, host: str, port: int) -> tuple[str, int]:
        """Where a server binds: `$PORT` (on PLATFORM_HOST) when the platform sets it, else `host:port`."""
        if self.platform_port is not None:
            return self.platform_host, self.platform_port
        return host, port

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'interviewer.db').resolve()}"


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"]) or "settings"
        name = Settings.model_fields[loc].alias if loc in Settings.model_fields else loc
        lines.append(f"{(name or loc).upper()}: {item['msg']}")
    return "invalid configuration: " + "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into a `ConfigError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
