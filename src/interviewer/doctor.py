"""`interviewer doctor`: check a deployment's configuration end to end before candidates arrive.

Each check talks to the real thing where it can (LiveKit's API with the configured key, the database, the
chat model's endpoint) and says in words what is wrong and which variable to look at. Nothing secret is
printed: a rejected key is named by its variable, never by its value.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from interviewer.config import ConfigError, Mode, Settings, VoiceEngine

CHECK_TIMEOUT = 8.0  # seconds for each remote check: a deployment that is slower than that is broken too


class Outcome(enum.StrEnum):
    ok = "ok"
    failed = "FAILED"
    skipped = "skipped"


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    detail: str


def _ok(name: str, detail: str) -> Check:
    return Check(name, Outcome.ok, detail)


def _failed(name: str, detail: str) -> Check:
    return Check(name, Outcome.failed, detail)


async def check_livekit(settings: Settings) -> Check:
    """A real, authenticated API call: list the rooms."""
    from livekit import api as lkapi

    name = "livekit"
    try:
        secret = settings.livekit_secret()
    except ConfigError as error:
        return _failed(name, str(error))
    http_url = "http" + settings.livekit_url.removeprefix("ws")
    try:
        async with lkapi.LiveKitAPI(
            url=http_url, api_key=settings.livekit_api_key, api_secret=secret
        ) as client:
            rooms = await asyncio.wait_for(client.room.list_rooms(lkapi.ListRoomsRequest()), CHECK_TIMEOUT)
    except lkapi.TwirpError as error:
        refused = (lkapi.TwirpErrorCode.UNAUTHENTICATED, lkapi.TwirpErrorCode.PERMISSION_DENIED)
        if error.status in (401, 403) or error.code in refused:
            return _failed(
                name,
                f"the server at LIVEKIT_URL ({settings.livekit_url}) refused LIVEKIT_API_KEY "
                f"'{settings.livekit_api_key}' with LIVEKIT_API_SECRET: the key or its secret is wrong "
                f"(HTTP {error.status})",
            )
        return _failed(name, f"the server at LIVEKIT_URL answered HTTP {error.status}: {error.message}")
    except Exception as error:  # refused, unresolvable, TLS, timeout: aiohttp's errors share no base
        return _failed(
            name, f"cannot reach LIVEKIT_URL ({settings.livekit_url}): {type(error).__name__} {error}"
        )
    return _ok(name, f"{settings.livekit_url} accepted the API key ({len(rooms.rooms)} rooms open)")


async def check_firebase(settings: Settings) -> Check:
    name = "firebase"
    project = settings.firebase_project_id
    if settings.mode is Mode.production and project.startswith("demo-"):
        return _failed(
            name,
            f"FIREBASE_PROJECT_ID is '{project}', a local demo project: set your Firebase project's id",
        )
    if settings.mode is Mode.production and settings.firebase_web_api_key == "demo-api-key":
        return _failed(name, "FIREBASE_WEB_API_KEY is the local placeholder: set your web app's API key")
    if settings.firebase_auth_emulator_host:
        url = f"http://{settings.firebase_auth_emulator_host}/"
        try:
            async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as client:
                await client.get(url)
        except httpx.HTTPError as error:
            return _failed(
                name,
                f"the Auth emulator at FIREBASE_AUTH_EMULATOR_HOST ({settings.firebase_auth_emulator_host})"
                f" does not answer: {type(error).__name__}",
            )
        return _ok(name, f"project '{project}', Auth emulator answering")
    return _ok(name, f"project '{project}' (ID tokens are verified against Google's published keys)")


async def check_model(settings: Settings) -> Check:
    engine = settings.voice_engine
    if engine is VoiceEngine.pipeline:
        return await _check_pipeline_model(settings)
    if engine is VoiceEngine.gemini:
        return await _check_gemini(settings)
    return await asyncio.to_thread(_check_offline_models, settings)


def _check_offline_models(settings: Settings) -> Check:
    from interviewer.voice.offline.models import locate_stt_model, locate_tts_voice

    try:
        locate_stt_model(settings)
        locate_tts_voice(settings)
    except Exception as error:  # a missing file or a hash mismatch, reported in the loader's words
        return _failed("model", f"offline speech models: {error}")
    return _ok("model", "offline engine: speech models present and verified")


async def _check_pipeline_model(settings: Settings) -> Check:
    name = "model"
    base = settings.pipeline_llm_base_url.rstrip("/")
    key = settings.pipeline_llm_api_key
    headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key is not None else {}
    try:
        async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as client:
            response = await client.get(f"{base}/models", headers=headers)
    except httpx.HTTPError as error:
        return _failed(name, f"cannot reach PIPELINE_LLM_BASE_URL ({base}): {type(error).__name__}")
    if response.status_code in (401, 403):
        missing = " (it is not set)" if key is None else ""
        return _failed(name, f"{base} refused PIPELINE_LLM_API_KEY{missing}: HTTP {response.status_code}")
    if response.status_code != 200:
        return _failed(name, f"{base}/models answered HTTP {response.status_code}")
    try:
        served = {str(item["id"]) for item in response.json()["data"]}
    except (ValueError, KeyError, TypeError):
        return _failed(name, f"{base}/models did not answer an OpenAI-compatible model list")
    if settings.pipeline_llm_model not in served:
        some = ", ".join(sorted(served)[:5]) or "none"
        return _failed(
            name, f"PIPELINE_LLM_MODEL '{settings.pipeline_llm_model}' is not served by {base} ({some})"
        )
    return _ok(name, f"{base} serves '{settings.pipeline_llm_model}' and accepted the key")


async def _check_gemini(settings: Settings) -> Check:
    name = "model"
    if settings.gemini_vertexai:
        from interviewer.voice.gemini import gemini_credentials

        if settings.google_cloud_project is None:
            return _failed(name, "GEMINI_VERTEXAI=true needs GOOGLE_CLOUD_PROJECT")
        try:
            credentials = await asyncio.to_thread(gemini_credentials, settings)
        except ConfigError as error:
            return _failed(name, str(error))
        source = "the service account key" if credentials is not None else "the platform's identity"
        return _ok(
            name,
            f"Vertex AI, project '{settings.google_cloud_project}' in {settings.google_cloud_location}, "
            f"with {source} (not called: Live sessions are only opened by interviews)",
        )
    if settings.google_api_key is None:
        return _failed(name, "VOICE_ENGINE=gemini needs GOOGLE_API_KEY (or GEMINI_VERTEXAI=true)")
    if settings.gemini_base_url:
        return Check(name, Outcome.skipped, f"GEMINI_BASE_URL points at {settings.gemini_base_url}")
    url = f"https://generativelanguage.googleapis.com/v1beta/models/{settings.gemini_model}"
    try:
        async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as client:
            headers = {"x-goog-api-key": settings.google_api_key.get_secret_value()}
            response = await client.get(url, headers=headers)
    except httpx.HTTPError as error:
        return _failed(name, f"cannot reach the Gemini API: {type(error).__name__}")
    if response.status_code in (400, 401, 403):
        return _failed(name, f"the Gemini API refused GOOGLE_API_KEY: HTTP {response.status_code}")
    if response.status_code == 404:
        return _failed(name, f"GEMINI_MODEL '{settings.gemini_model}' does not exist for this key")
    if response.status_code != 200:
        return _failed(name, f"the Gemini API answered HTTP {response.status_code}")
    return _ok(name, f"GOOGLE_API_KEY accepted; '{settings.gemini_model}' available")


async def check_database(settings: Settings) -> Check:
    return await asyncio.to_thread(_check_database, settings)


def _check_database(settings: Settings) -> Check:
    from sqlalchemy.exc import SQLAlchemyError

    from interviewer.store.migrate import current_revision, head_revision
    from interviewer.store.repository import make_engine

    name = "database"
    try:
        engine = make_engine(settings.resolved_database_url)
    except (SQLAlchemyError, ValueError) as error:
        return _failed(name, f"DATABASE_URL is not usable: {type(error).__name__}")
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
    except SQLAlchemyError as error:
        return _failed(name, f"cannot connect to DATABASE_URL: {type(error).__name__}: {error.args[0]}")
    finally:
        engine.dispose()
    head = head_revision()
    if revision != head:
        return _failed(
            name,
            f"the schema is at revision {revision or 'none (empty database)'}, the code needs {head}: "
            "run `python -m interviewer.store upgrade`",
        )
    return _ok(name, f"reachable, schema at {head}")


CHECKS: tuple[Callable[[Settings], Awaitable[Check]], ...] = (
    check_livekit,
    check_firebase,
    check_model,
    check_database,
)


async def run_checks(settings: Settings) -> list[Check]:
    return list(await asyncio.gather(*(check(settings) for check in CHECKS)))


def report(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    return "\n".join(f"{c.outcome.value:>7}  {c.name:<{width}}  {c.detail}" for c in checks)


def main(settings: Settings) -> int:
    checks = asyncio.run(run_checks(settings))
    print(report(checks))
    failed = [c.name for c in checks if c.outcome is Outcome.failed]
    if failed:
        print(f"\n{len(failed)} of {len(checks)} checks failed: {', '.join(failed)}")
        return 1
    print(f"\nall {len(checks)} checks passed for INTERVIEWER_MODE={settings.mode.value}")
    return 0
