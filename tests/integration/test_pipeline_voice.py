"""The pipeline engine inside the real worker, in a real LiveKit room: `interviewer agent` with
VOICE_ENGINE=pipeline (offline VAD/STT/TTS) talks to FakeOpenAIChat (a named fake of the streaming Chat
Completions wire protocol; no OpenAI-compatible server can be reached from here) and a simulated candidate
joins with a token from the real api and answers by voice (espeak-ng).

The worker must build the pipeline session from settings, refuse the fake model's greeting-time tool call,
speak the model's greeting with Piper into the room, transcribe the candidate's spoken answer with Whisper and
send it to the model, whose next_question call then reaches the Director.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from interviewer.bench.candidate import Candidate, sign_in_anonymously, start_interview
from interviewer.procs import ManagedProcess, group_alive
from tests.fakes.openai_chat import Call, FakeOpenAIChat, Messages, Reply
from tests.fixtures.stack import Stack, start_worker

pytestmark = pytest.mark.integration

GREETING = "Hello, I am Alex from the hiring team. Are you ready to begin?"
ANSWER = "Yes, I am ready to begin."


def _question(messages: Messages) -> str:
    for message in reversed(messages):
        if message.get("role") == "tool" and str(message["content"]).startswith("{"):
            payload = json.loads(message["content"])
            if "question_id" in payload:
                return str(payload["text"])
    raise AssertionError("next_question never returned a question")


async def test_pipeline_worker_interviews_a_candidate_in_a_real_room(stack: Stack, tmp_path: Path) -> None:
    fake = await FakeOpenAIChat(
        [
            Reply(calls=[Call("next_question")]),  # during the greeting: refused
            Reply(GREETING),
            Reply(calls=[Call("next_question")]),
            Reply(_question),
        ]
    ).start()
    env = {
        **stack.env,
        "VOICE_ENGINE": "pipeline",
        "PIPELINE_LLM_BASE_URL": fake.base_url,
        "PIPELINE_LLM_MODEL": fake.model,
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
            await candidate.say(ANSWER)
            assert await candidate.wait_agent_turn_done(60), f"no question heard:\n{worker.log_tail(30)}"
        finally:
            await candidate.leave()
    finally:
        if worker is not None:
            pgid = worker.pgid
            await asyncio.to_thread(worker.stop, 40)
            assert not group_alive(pgid), "the pipeline worker's process group survived"
        await asyncio.to_thread(stack.start_worker)
        await fake.stop()

    assert fake.requests and all(body["model"] == fake.model for body in fake.requests)
    events = [(e.tool, e.outcome) for e in stack.store.tool_events(interview.interview_id)]
    assert events[:2] == [("next_question", "refused"), ("next_question", "ok")], events
    turns = stack.store.turns(interview.interview_id)
    agent = [t.text for t in turns if t.speaker == "agent"]
    assert agent[:1] == [GREETING]
    heard = [t.text.lower() for t in turns if t.speaker == "candidate"]
    assert heard and "ready" in heard[0], heard
    # What the model was sent is what the candidate said, transcribed on the worker.
    said = {
        str(m["content"]).lower() for body in fake.requests for m in body["messages"] if m["role"] == "user"
    }
    assert any("ready" in text for text in said), said
