"""The gemini and pipeline engines refuse a configuration they cannot run with, naming the variable; a sound
Vertex AI configuration (a real service account key file, made here) builds a session without any network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from interviewer.config import ConfigError, load_settings
from interviewer.interview.plans import load_role
from interviewer.voice.gemini import build_gemini_session, watchdog_of
from interviewer.voice.pipeline import pipeline_llm

PLAN = load_role("backend-engineer")


def _service_account_key(path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "interviewer-test",
                "private_key_id": "0" * 40,
                "private_key": pem,
                "client_email": "interviewer@interviewer-test.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


def test_gemini_needs_a_key_or_vertex_ai() -> None:
    settings = load_settings(INTERVIEWER_MODE="test", VOICE_ENGINE="gemini", GOOGLE_API_KEY=None)
    with pytest.raises(ConfigError, match="GOOGLE_API_KEY"):
        build_gemini_session(settings, PLAN, 20)


def test_vertex_ai_needs_a_project() -> None:
    settings = load_settings(INTERVIEWER_MODE="test", VOICE_ENGINE="gemini", GEMINI_VERTEXAI=True)
    with pytest.raises(ConfigError, match="GOOGLE_CLOUD_PROJECT"):
        build_gemini_session(settings, PLAN, 20)


def test_vertex_ai_names_a_credentials_file_that_is_not_a_key(tmp_path: Path) -> None:
    bad = tmp_path / "key.json"
    bad.write_text('{"type": "authorized_user"}')
    settings = load_settings(
        INTERVIEWER_MODE="test",
        VOICE_ENGINE="gemini",
        GEMINI_VERTEXAI=True,
        GOOGLE_CLOUD_PROJECT="interviewer-test",
        GOOGLE_APPLICATION_CREDENTIALS=str(bad),
    )
    with pytest.raises(ConfigError, match=r"GOOGLE_APPLICATION_CREDENTIALS: .* is not a service account key"):
        build_gemini_session(settings, PLAN, 20)


async def test_vertex_ai_with_a_service_account_key_builds_a_watched_session(tmp_path: Path) -> None:
    # AgentSession takes the running loop: built inside one, as the worker builds it.
    settings = load_settings(
        INTERVIEWER_MODE="test",
        VOICE_ENGINE="gemini",
        GEMINI_VERTEXAI=True,
        GOOGLE_CLOUD_PROJECT="interviewer-test",
        GOOGLE_CLOUD_LOCATION="europe-west4",
        GOOGLE_APPLICATION_CREDENTIALS=str(_service_account_key(tmp_path / "sa.json")),
    )
    session = build_gemini_session(settings, PLAN, 20)
    assert watchdog_of(session) is not None


def test_pipeline_base_url_must_be_http() -> None:
    settings = load_settings(INTERVIEWER_MODE="test", PIPELINE_LLM_BASE_URL="127.0.0.1:11434/v1")
    with pytest.raises(ConfigError, match="PIPELINE_LLM_BASE_URL"):
        pipeline_llm(settings)


def test_pipeline_temperature_is_bounded() -> None:
    with pytest.raises(ConfigError, match="PIPELINE_LLM_TEMPERATURE"):
        load_settings(INTERVIEWER_MODE="test", PIPELINE_LLM_TEMPERATURE=3)
