"""Startup under adversarial order, on the real stack (livekit-server, emulator, api, worker processes)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from livekit import api as lkapi
from livekit import rtc

from interviewer.bench.candidate import Candidate, Interview, sign_in_anonymously, start_interview
from interviewer.config import load_settings
from interviewer.rooms import DispatchMetadata, room_configuration
from tests.fixtures.stack import Stack
from tests.fixtures.waiting import wait_until

pytestmark = pytest.mark.integration

READY = "Yes, I am ready. Thank you."
WARMUP = "I am a backend engineer and I build payment services in Python."


def new_interview(stack: Stack) -> Interview:
    uid, id_token = sign_in_anonymously(stack.emulator_host)
    return start_interview(stack.api_url, id_token, "backend-engineer", uid=uid)


def rooms_of_running_jobs(stack: Stack) -> set[str]:
    """The rooms of the jobs the worker's health server lists as running in a process."""
    assert stack.worker_health is not None
    body = httpx.get(f"{stack.worker_health}/healthz", timeout=2).json()
    return {str(job["room"]) for job in body["jobs"]}


def agents_in(room: rtc.Room) -> list[rtc.RemoteParticipant]:
    return [
        p for p in room.remote_participants.values() if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
    ]


async def server_view(stack: Stack, room: str) -> tuple[int, list[lkapi.AgentDispatch]]:
    """(agents in the room, dispatches of the room) as livekit-server itself sees them."""
    async with lkapi.LiveKitAPI(
        url=stack.livekit.http_url, api_key=stack.livekit.api_key, api_secret=stack.livekit.api_secret
    ) as client:
        try:
            listed = await client.room.list_participants(lkapi.ListParticipantsRequest(room=room))
            participants = list(listed.participants)
        except lkapi.TwirpError:
            participants = []
        dispatches = await client.agent_dispatch.list_dispatch(room)
    agents = [p for p in participants if p.kind == lkapi.ParticipantInfo.Kind.AGENT]
    return len(agents), dispatches


def candidate_texts(stack: Stack, interview_id: str) -> list[str]:
    return [t.text for t in stack.store.turns(interview_id) if t.speaker == "candidate"]


async def end(stack: Stack, interview: Interview) -> None:
    async with httpx.AsyncClient() as client:
        await client.post(
            f"{stack.api_url}/v1/interviews/{interview.interview_id}/end",
            headers={"Authorization": f"Bearer {interview.id_token}"},
        )


async def test_candidate_joins_before_the_worker_registered(stack: Stack) -> None:
    stack.stop_worker()
    interview = new_interview(stack)
    candidate = Candidate(interview)
    try:
        await candidate.join()
        assert not agents_in(candidate.room)
        await asyncio.to_thread(stack.start_worker)  # registers only now
        assert await candidate.wait_agent_turn_done(90), "the agent never greeted"
        assert candidate.timings.first_agent_audio is not None
    finally:
        await candidate.leave()
        await end(stack, interview)


async def test_agent_binds_to_the_candidate_not_to_an_observer_who_joined_first(stack: Stack) -> None:
    interview = new_interview(stack)
    meta = DispatchMetadata(interview.interview_id, "backend-engineer", interview.uid)
    settings = load_settings(INTERVIEWER_MODE="test", LIVEKIT_API_SECRET=stack.livekit.api_secret)
    # An observer whose token also carries the dispatch (say, a second device) creates the room first.
    observer_token = (
        lkapi.AccessToken(stack.livekit.api_key, stack.livekit.api_secret)
        .with_identity("observer")
        .with_grants(lkapi.VideoGrants(room_join=True, room=interview.room))
        .with_room_config(room_configuration(settings, meta))
        .to_jwt()
    )
    observer = Candidate(
        Interview(
            interview.interview_id, interview.room, interview.livekit_url, observer_token, "observer", ""
        )
    )
    candidate = Candidate(interview)
    try:
        await observer.join()
        await wait_until(lambda: bool(agents_in(observer.room)), 60, "the agent to join the observer's room")
        # The observer talks; the agent must not take it as the candidate's answer.
        await observer.say("Hello, I am only watching this interview, please ignore me.")
        assert candidate_texts(stack, interview.interview_id) == []
        await candidate.join()
        assert await candidate.wait_agent_turn_done(90), "the agent never greeted the candidate"
        await candidate.say(READY)
        assert await candidate.wait_agent_turn_done(60)
        texts = candidate_texts(stack, interview.interview_id)
        assert texts and "ready" in texts[0].lower()
        assert not any("watching" in text.lower() for text in texts)
    finally:
        await candidate.leave()
        await observer.leave()
        await end(stack, interview)


async def test_talking_over_the_greeting_takes_no_tool_effect(stack: Stack) -> None:
    interview = new_interview(stack)
    candidate = Candidate(interview)
    try:
        await candidate.join()
        await wait_until(lambda: bool(agents_in(candidate.room)), 60, "the agent")
        await candidate.say("Hello hello, can you hear me, let us get started right away please.")
        assert await candidate.wait_agent_turn_done(90)
        await candidate.say(READY)
        assert await candidate.wait_agent_turn_done(60)
    finally:
        await candidate.leave()
        await end(stack, interview)
    turns = stack.store.turns(interview.interview_id)
    greeting = next(t for t in turns if t.speaker == "agent")
    events = stack.store.tool_events(interview.interview_id)
    # The guard opened only after the greeting had played; nothing before it took effect.
    assert all(e.outcome == "refused" for e in events if e.at <= greeting.ended_at)
    assert any(e.outcome == "refused" for e in events)


async def test_same_token_twice_creates_one_agent(stack: Stack) -> None:
    interview = new_interview(stack)
    first, second = Candidate(interview), Candidate(interview)
    try:
        await first.join()
        await wait_until(lambda: bool(agents_in(first.room)), 60, "the agent")
        await second.join()  # same identity: replaces the first connection; the room exists, no dispatch
        await wait_until(lambda: bool(agents_in(second.room)), 30, "the agent seen by the second connection")
        agents, dispatches = await server_view(stack, interview.room)
        assert agents == 1
        assert len(dispatches) <= 1
    finally:
        await second.leave()
        await first.leave()
        await end(stack, interview)


async def test_token_reused_after_the_end_starts_no_second_interview(stack: Stack) -> None:
    interview = new_interview(stack)
    candidate = Candidate(interview)
    await candidate.join()
    try:
        assert await candidate.wait_agent_turn_done(90)
        await candidate.say("Let us stop here. Please end the interview.")
        assert await candidate.wait_agent_left(90)
    finally:
        await candidate.leave()
    finished = stack.store.get_interview(interview.interview_id)
    assert finished is not None and finished.status == "finished"
    turns_before = len(stack.store.turns(interview.interview_id))
    await wait_until(
        lambda: interview.room not in rooms_of_running_jobs(stack), 60, "the interview's job to end"
    )

    again = Candidate(interview)  # same token: the room is gone, so this join re-creates it and dispatches
    try:
        await again.join()
        # The worker is offered the job and refuses it before livekit-server assigns it (job_requests.py):
        # no job process starts, so no second dispatch of the room ever runs.
        assert stack.worker is not None and stack.worker.log_path is not None
        log_path = stack.worker.log_path
        refusal = f"interview {interview.interview_id} is finished"
        await wait_until(
            lambda: refusal in log_path.read_text(errors="replace"),
            60,
            "the worker to refuse the re-created room's job",
        )
        assert interview.room not in rooms_of_running_jobs(stack)
        assert not agents_in(again.room)
        assert again.timings.first_agent_audio is None
    finally:
        await again.leave()
    assert len(stack.store.turns(interview.interview_id)) == turns_before
    after = stack.store.get_interview(interview.interview_id)
    assert after is not None and after.status == "finished"


async def test_rejoin_token_resumes_where_it_stopped(stack: Stack) -> None:
    interview = new_interview(stack)
    candidate = Candidate(interview)
    try:
        await candidate.join()
        assert await candidate.wait_agent_turn_done(90)
        await candidate.say(READY)
        assert await candidate.wait_agent_turn_done(60)  # the warm-up question was asked
    finally:
        await candidate.leave()
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{stack.api_url}/v1/interviews/{interview.interview_id}/token",
            headers={"Authorization": f"Bearer {interview.id_token}"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["room"] == interview.room
    rejoined = Candidate(
        Interview(
            interview.interview_id,
            interview.room,
            body["livekit_url"],
            body["participant_token"],
            interview.uid,
            interview.id_token,
        )
    )
    try:
        await rejoined.join()
        await wait_until(lambda: bool(agents_in(rejoined.room)), 30, "the same agent still in the room")
        await rejoined.say(WARMUP)
        assert await rejoined.wait_agent_turn_done(60), "the agent did not answer after the rejoin"
    finally:
        await rejoined.leave()
        await end(stack, interview)
    texts = candidate_texts(stack, interview.interview_id)
    assert len(texts) >= 2 and "payment" in texts[-1].lower()
    # It continued where it stopped: the warm-up answer was recorded and the first core question followed.
    recorded = [e for e in stack.store.tool_events(interview.interview_id) if e.tool == "record_answer"]
    assert [e.arguments["question_id"] for e in recorded if e.outcome == "ok"] == ["warmup-intro"]
    agent_lines = [t.text for t in stack.store.turns(interview.interview_id) if t.speaker == "agent"]
    assert "system design" in agent_lines[-1].lower(), agent_lines
