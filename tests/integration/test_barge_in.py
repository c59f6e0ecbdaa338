"""Barge-in through a real livekit-server room: the offline session (its real turn handling, VAD, streaming
Whisper and Piper) in this process as the agent, a candidate publishing espeak-ng speech over it.

Talking over the interviewer stops it; a short "mm-hm" does not (its speech resumes); speech over an
uninterruptible line (the greeting) changes nothing. Timings are bench/barge_in.py's business; these tests
assert what happened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from livekit import rtc
from livekit.agents import AgentSession

from interviewer.bench.speech_sim import espeak_pcm, word_error_rate
from interviewer.config import load_settings
from interviewer.interview.plans import load_role
from interviewer.voice.engine import SPEECH_KEY, build_session
from interviewer.voice.offline.duplex import (
    AGENT,
    CANDIDATE,
    SAMPLE_RATE,
    Listener,
    ProbeCandidate,
    room_token,
    start_agent,
    talk_over,
    trim,
)
from interviewer.voice.offline.engine import OfflineSpeech
from tests.fixtures.livekit import LiveKitServer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]  # as the fixture

AGENT_LINE = (
    "Let's move on to system design. Imagine you are building a service that stores every order a customer "
    "places, and the traffic doubles every month. Walk me through how you would split the data, how you "
    "would keep the reads fast, and what you would measure first to know that it works."
)
BARGE_IN = "Sorry, can I stop you there? I think I misunderstood the last question."


@dataclass
class Duplex:
    session: AgentSession[None]
    candidate: ProbeCandidate


@pytest.fixture
async def duplex(
    livekit_server: LiveKitServer, offline_speech: OfflineSpeech, request: pytest.FixtureRequest
) -> AsyncIterator[Duplex]:
    server = livekit_server
    room = f"barge-in-{request.node.name}"[:60]
    settings = load_settings(INTERVIEWER_MODE="test")
    session = build_session(settings, {SPEECH_KEY: offline_speech}, load_role("backend-engineer"), 10)
    candidate = ProbeCandidate()
    agent_room: rtc.Room | None = None
    try:
        await candidate.join(server.url, room_token(server.api_key, server.api_secret, room, CANDIDATE))
        token = room_token(server.api_key, server.api_secret, room, AGENT, agent=True)
        agent_room = await start_agent(session, Listener(), server.url, token)
        yield Duplex(session, candidate)
    finally:
        await session.aclose()
        await candidate.leave()
        if agent_room is not None:
            await agent_room.disconnect()


def _speech(text: str) -> npt.NDArray[np.int16]:
    return trim(espeak_pcm(text, sample_rate=SAMPLE_RATE))


async def test_talking_over_the_interviewer_stops_it(duplex: Duplex) -> None:
    outcome = await talk_over(duplex.session, duplex.candidate, AGENT_LINE, _speech(BARGE_IN))
    assert outcome.interrupted, outcome
    # It stopped while the candidate was still talking, and what they said was heard as their words.
    assert outcome.paused_at is not None and outcome.paused_at < outcome.said_until, outcome
    # (Both sides share this process's loop: on a busy machine the candidate's audio can arrive choppy
    # and Whisper miss some of it, so the check is that it was heard, not how well.)
    heard = " ".join(outcome.user_turns)
    assert heard and word_error_rate(BARGE_IN, heard) < 0.8, outcome.user_turns


async def test_a_short_mm_hm_does_not_stop_the_interviewer(duplex: Duplex) -> None:
    outcome = await talk_over(duplex.session, duplex.candidate, AGENT_LINE, _speech("Mm-hmm."))
    assert not outcome.interrupted, outcome
    assert outcome.user_turns == [], outcome.user_turns  # "mm-hm" has no words: no transcript, no turn
    assert outcome.heard_again_at is not None, outcome  # the interviewer went on speaking after it


async def test_speech_over_an_uninterruptible_line_changes_nothing(duplex: Duplex) -> None:
    pcm = _speech(BARGE_IN)
    outcome = await talk_over(duplex.session, duplex.candidate, AGENT_LINE, pcm, allow_interruptions=False)
    assert not outcome.interrupted and outcome.resumed == 0, outcome
    assert outcome.paused_at is None or outcome.paused_at > outcome.said_until, outcome  # never paused
    assert outcome.user_turns == [], outcome.user_turns  # dropped, not kept for after the greeting
