"""`interviewer doctor` (the real CLI, as a process) against a real livekit-server (good and bad secret), a
real SQLite database (migrated and empty) and FakeOpenAIChat (a named fake of an OpenAI-compatible server, for
the pipeline engine's model; none can be reached from here), in production mode.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from interviewer.store import Store
from tests.fakes.openai_chat import FakeOpenAIChat
from tests.fixtures.livekit import LiveKitServer

pytestmark = pytest.mark.integration

MODEL_KEY = "sk-fake-doctor-key-0123456789abcdef"
WRONG_SECRET = "a-wrong-secret-that-is-long-enough-0123456789"


async def _doctor(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "interviewer.cli",
        "doctor",
        env=env,
        cwd=cwd,  # no stray .env is read
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 90)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


def _production_env(livekit_server: LiveKitServer, fake: FakeOpenAIChat, database: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {
        **keep,
        "INTERVIEWER_MODE": "production",
        "LIVEKIT_URL": livekit_server.url,
        "LIVEKIT_API_KEY": livekit_server.api_key,
        "LIVEKIT_API_SECRET": livekit_server.api_secret,
        "FIREBASE_PROJECT_ID": "interviewer-prod-check",
        "FIREBASE_WEB_API_KEY": "AIzaSy-not-a-real-web-key",
        "DATABASE_URL": database,
        "VOICE_ENGINE": "pipeline",
        "PIPELINE_LLM_BASE_URL": fake.base_url,
        "PIPELINE_LLM_MODEL": fake.model,
        "PIPELINE_LLM_API_KEY": MODEL_KEY,
    }


async def test_doctor_passes_a_sound_production_configuration_and_names_each_fault(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    fake = await FakeOpenAIChat([], api_key=MODEL_KEY).start()
    migrated = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    Store(migrated).close()
    good = _production_env(livekit_server, fake, migrated)
    try:
        code, out = await _doctor(good, tmp_path)
        assert code == 0, out
        assert out.count(" ok  ") == 4 and "all 4 checks passed" in out, out

        bad = {
            **good,
            "LIVEKIT_API_SECRET": WRONG_SECRET,
            "PIPELINE_LLM_API_KEY": "sk-wrong-key-0123456789",
            "PIPELINE_LLM_MODEL": "not-served-model",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}",
            "FIREBASE_PROJECT_ID": "demo-interviewer",
        }
        code, out = await _doctor(bad, tmp_path)
    finally:
        await fake.stop()
    assert code == 1, out
    lines = {line.split()[1]: line for line in out.splitlines() if line.strip().startswith("FAILED")}
    assert set(lines) == {"livekit", "firebase", "model", "database"}, out
    assert "refused LIVEKIT_API_KEY" in lines["livekit"] and "secret is wrong" in lines["livekit"]
    assert "demo project" in lines["firebase"]
    assert "refused PIPELINE_LLM_API_KEY" in lines["model"]
    assert "python -m interviewer.store upgrade" in lines["database"]
    # The doctor names variables, never their values.
    for secret in (WRONG_SECRET, "sk-wrong-key-0123456789", livekit_server.api_secret, MODEL_KEY):
        assert secret not in out
    assert "4 checks failed" in out
