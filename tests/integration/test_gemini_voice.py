"""The production engine inside the real worker, in a real LiveKit room: `interviewer agent` with
VOICE_ENGINE=gemini talks to FakeGeminiLive (a named fake of the Gemini Live wire protocol, over TLS; Gemini
cannot be reached from here) and a simulated candidate joins with a token from the real api.

The worker must build the Gemini session (no offline models), bind to the candidate, refuse the fake model's
tool call during the greeting, and play the model's audio into the room, where the candidate hears it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from interviewer.bench.candidate import Candidate, sign_in_anonymously, start_interview
from interviewer.procs import ManagedProcess, group_alive
from tests.fakes.gemini_live import CallTool, FakeGeminiLive, Say
from tests.fixtures.stack import Stack, start_worker

pytestmark = pytest.mark.integration

GREETING = "Hello, I am Alex from the hiring team; this interview takes about twenty minutes."
ROLE = "backend-engineer"
AUDIBLE = 1000  # the fake speaks a 220 Hz tone at amplitude 3000; silence and comfort noise stay far below


async def test_gemini_worker_greets_a_candidate_in_a_real_room(stack: Stack, tmp_path: Path) -> None:
    fake = await FakeGeminiLive([[CallTool("next_question"), Say(GREETING)]]).start(tmp_path)
    assert fake.ca_file is not None
    env = {
        **stack.env,
        "VOICE_ENGINE": "gemini",
        "GOOGLE_API_KEY": "fake-google-api-key-for-the-worker",
        "GEMINI_BASE_URL": fake.base_url,
        "SSL_CERT_FILE": str(fake.ca_file),
    }
    stack.stop_worker()  # exactly one registered worker: this one
    worker: ManagedProcess | None = None
    try:
        worker, _health = await asyncio.to_thread(start_worker, env, stack.workdir)
        uid, id_token = await asyncio.to_thread(sign_in_anonymously, stack.emulator_host)
        interview = await asyncio.to_thread(
            start_interview, stack.api_url, id_token, "backend-engineer", uid=uid
        )
        candidate = Candidate(interview)
        await candidate.join()
        try:
            assert await candidate.wait_agent_turn_done(60), f"no greeting heard:\n{worker.log_tail(30)}"
            heard = candidate.agent_audio()
            assert heard.size and int(np.abs(heard).max()) > AUDIBLE, (
                "the model's audio never reached the room"
            )
        finally:
            await candidate.leave()
    finally:
        if worker is not None:
            pgid = worker.pgid
            await asyncio.to_thread(worker.stop, 40)
            assert not group_alive(pgid), "the gemini worker's process group survived"
        await asyncio.to_thread(stack.start_worker)
        await fake.stop()

    assert fake.setups and fake.setups[0]["model"].startswith("models/gemini-")
    events = [(e.tool, e.outcome) for e in stack.store.tool_events(interview.interview_id)]
    assert events[:1] == [("next_question", "refused")], events
    agent_turns = [t.text for t in stack.store.turns(interview.interview_id) if t.speaker == "agent"]
    assert agent_turns[:1] == [GREETING]
    assert fake.realtime_inputs > 0, "the candidate's microphone never reached the model"
    assert worker.log_path is not None
    assert "offline speech loaded" not in worker.log_path.read_text(), (
        "the gemini worker loaded offline models"
    )
