"""No interview is lost when its worker dies, and nobody is sent into a full fleet: on the real stack
(livekit-server, the Auth emulator, the api and agent workers as processes, a simulated candidate).

- A worker SIGKILLed mid-interview with a second worker registered: the second takes the interview over
  from the store (same interview id, every earlier turn kept, the Director where it was) and the candidate
  hears it apologise and carry on.
- With no second worker: the api finishes the interview from its saved turns, marked as cut short, and lets
  the candidate go; nothing stays `live`.
- A fleet whose every worker is full answers the next candidate 503 "busy" with Retry-After.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from livekit import rtc

from interviewer.agent.recovery import CUT_SHORT_REASON
from interviewer.bench.candidate import Candidate, Interview, sign_in_anonymously, start_interview
from interviewer.interview.wording import RESUME_LINE, RESUME_QUESTION_LEAD
from interviewer.procs import ManagedProcess, group_alive
from interviewer.store import InterviewStatus, Store, fleet
from tests.fixtures.firebase import FirebaseEmulator
from tests.fixtures.livekit import LiveKitServer
from tests.fixtures.stack import stack_env, start_api, start_worker
from tests.fixtures.waiting import wait_until

pytestmark = pytest.mark.integration

READY = "Yes, I am ready. Thank you."
WARMUP = "I am a backend engineer and I build payment services in Python."
DESIGN = (
    "I designed a ledger service that handles ten thousand payments a minute. I split reads from writes and "
    "the result was a forty percent drop in latency."
)
TAKEOVER_BOUND = 10.0  # the bound: the interview continues on the second worker within this
CUT_SHORT_BOUND = 120.0  # and, with no worker left, it is finished within this


@dataclass
class Fleet:
    env: dict[str, str]
    workdir: Path
    api_url: str
    emulator_host: str
    store: Store
    workers: list[tuple[ManagedProcess, str]]

    def add_worker(self, **env: str) -> tuple[ManagedProcess, str]:
        worker = start_worker({**self.env, **env}, self.workdir)
        self.workers.append(worker)
        return worker

    def running(self, room: str) -> tuple[ManagedProcess, str]:
        """The worker whose job runs the interview in `room`."""
        for process, health in self.workers:
            if process.poll() is not None:
                continue
            jobs = httpx.get(f"{health}/healthz", timeout=5).json()["jobs"]
            if any(job["room"] == room for job in jobs):
                return process, health
        raise AssertionError(f"no live worker runs {room}")

    def stop_workers(self) -> None:
        for process, _health in self.workers:
            if process.proc is not None and process.poll() is None:
                pgid = process.pgid
                process.stop(timeout=40)
                assert not group_alive(pgid), "a worker's process group survived"
        self.workers.clear()


@pytest.fixture
def fleet_stack(
    livekit_server: LiveKitServer, firebase_emulator: FirebaseEmulator, tmp_path: Path
) -> Iterator[Fleet]:
    env = stack_env(livekit_server, firebase_emulator, tmp_path)
    env["TAKEOVER_TIMEOUT_SECONDS"] = "15"  # keeps the no-worker case short; the default is longer
    env["MAX_INTERVIEWS_PER_WORKER"] = "2"  # fewer warm processes to start: these tests need one interview
    # The session's livekit-server also serves other tests' workers (with other databases): an agent name
    # of this fleet's own keeps their dispatches apart.
    env["AGENT_NAME"] = f"interviewer-{tmp_path.name[-24:]}"
    api, api_url = start_api(env, tmp_path)
    store = Store(env["DATABASE_URL"])
    stack = Fleet(env, tmp_path, api_url, firebase_emulator.host, store, [])
    try:
        yield stack
    finally:
        stack.stop_workers()
        pgid = api.pgid
        api.stop(timeout=40)
        assert not group_alive(pgid), "the api's process group survived"
        store.close()


def new_interview(stack: Fleet) -> Interview:
    uid, id_token = sign_in_anonymously(stack.emulator_host)
    return start_interview(stack.api_url, id_token, "backend-engineer", uid=uid)


def agent_identities(room: rtc.Room) -> set[str]:
    return {
        p.identity
        for p in room.remote_participants.values()
        if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
    }


def agent_lines(store: Store, interview_id: str) -> list[str]:
    return [t.text for t in store.turns(interview_id) if t.speaker == "agent"]


async def into_the_core_questions(stack: Fleet, candidate: Candidate) -> None:
    """Greeting heard, warm-up answered, the first core question asked."""
    await candidate.join()
    assert await candidate.wait_agent_turn_done(90), "the agent never greeted"
    await candidate.say(READY)
    assert await candidate.wait_agent_turn_done(60), "no warm-up question"
    await candidate.say(WARMUP)
    assert await candidate.wait_agent_turn_done(60), "no core question"
    await wait_until(  # the job's journal lands the line on its own thread
        lambda: "system design" in agent_lines(stack.store, candidate.interview.interview_id)[-1].lower(),
        10,
        "the core question in the store",
    )


def lease_expiry(store: Store, interview_id: str) -> datetime:
    lease = fleet.lease_of(store, interview_id)
    assert lease is not None
    expires = lease.expires_at
    return expires if expires.tzinfo else expires.replace(tzinfo=UTC)  # SQLite keeps no zone


async def frozen_job_keeps_its_lease(stack: Fleet, interview: Interview, health: str) -> None:
    """A job process frozen past its lease (as a starved CPU can) is not replaced: its worker, seeing the
    process alive, renews the lease for it. Without that, the lease lapses and recovery sends a second
    agent into a room whose first one is still there."""
    jobs = httpx.get(f"{health}/healthz", timeout=5).json()["jobs"]
    pid = next(int(job["pid"]) for job in jobs if job["room"] == interview.room)
    holder = fleet.lease_of(stack.store, interview.interview_id)
    assert holder is not None
    os.kill(pid, signal.SIGSTOP)
    frozen = datetime.now(UTC)
    try:
        renewed_for_it = frozen + timedelta(seconds=fleet.LEASE_SECONDS + 2 * fleet.LEASE_RENEW_SECONDS)
        await wait_until(
            lambda: lease_expiry(stack.store, interview.interview_id) > renewed_for_it,
            4 * fleet.LEASE_SECONDS,
            "the worker to renew the frozen job's lease",
        )
    finally:
        os.kill(pid, signal.SIGCONT)
    lease = fleet.lease_of(stack.store, interview.interview_id)
    assert lease is not None and (lease.job_id, lease.takeovers) == (holder.job_id, holder.takeovers)


async def test_a_second_worker_takes_over_an_interview_whose_worker_was_killed(fleet_stack: Fleet) -> None:
    stack = fleet_stack
    await asyncio.gather(asyncio.to_thread(stack.add_worker), asyncio.to_thread(stack.add_worker))
    interview = new_interview(stack)
    candidate = Candidate(interview)
    try:
        await into_the_core_questions(stack, candidate)
        before = [(t.seq, t.speaker, t.text) for t in stack.store.turns(interview.interview_id)]
        first_agent = agent_identities(candidate.room)
        asked = agent_lines(stack.store, interview.interview_id)[-1]
        victim, health = stack.running(interview.room)
        await frozen_job_keeps_its_lease(stack, interview, health)
        assert agent_identities(candidate.room) == first_agent, "a second agent joined a frozen job's room"

        killed = time.monotonic()
        victim.crash(reaped_within=5)
        await wait_until(
            lambda: bool(agent_identities(candidate.room) - first_agent),
            TAKEOVER_BOUND,
            "a new agent to join the candidate's room",
        )
        joined = time.time()  # the dead agent's last frames have arrived long before this
        await wait_until(
            lambda: any(heard > joined for heard in candidate.timings.agent_audible),
            max(0.0, TAKEOVER_BOUND - (time.monotonic() - killed)),
            "the candidate to hear the new agent",
        )
        print(f"\nthe new agent was heard {time.monotonic() - killed:.1f}s after the kill")
        await wait_until(
            lambda: any(RESUME_LINE in line for line in agent_lines(stack.store, interview.interview_id)),
            30,
            "the apology to be spoken in full",
        )
        lease = fleet.lease_of(stack.store, interview.interview_id)
        assert lease is not None and lease.takeovers == 1
        # The apology repeats the question that was being answered: the Director is where it was.
        apology = agent_lines(stack.store, interview.interview_id)[-1]
        question = apology.split(RESUME_QUESTION_LEAD, 1)[1].strip()
        assert question and question in asked, (apology, asked)

        await wait_until(lambda: candidate.room.isconnected(), 5, "the candidate to stay connected")
        await candidate.say(DESIGN)
        await wait_until(
            lambda: any("ledger" in t.text.lower() for t in stack.store.turns(interview.interview_id)),
            60,
            "the answer after the take-over to reach the new job",
        )
        await wait_until(
            lambda: stack.store.turns(interview.interview_id)[-1].speaker == "agent",
            60,
            "the interviewer to reply after the take-over",
        )
    finally:
        await candidate.leave()
    turns = stack.store.turns(interview.interview_id)
    # Same interview, every earlier turn kept as it was, in order.
    assert [(t.seq, t.speaker, t.text) for t in turns[: len(before)]] == before
    assert [t.seq for t in turns] == list(range(1, len(turns) + 1))
    recorded = [
        e.arguments["question_id"]
        for e in stack.store.tool_events(interview.interview_id)
        if e.tool == "record_answer" and e.outcome == "ok"
    ]
    # The warm-up was recorded once, before the kill; the design answer went to a core question.
    assert recorded.count("warmup-intro") == 1, recorded


async def test_with_no_worker_left_the_interview_is_finished_from_its_saved_turns(fleet_stack: Fleet) -> None:
    stack = fleet_stack
    worker, _health = stack.add_worker()
    interview = new_interview(stack)
    candidate = Candidate(interview)
    try:
        await into_the_core_questions(stack, candidate)
        said = [t.text for t in stack.store.turns(interview.interview_id) if t.speaker == "candidate"]
        worker.crash(reaped_within=5)

        def finished() -> bool:
            row = stack.store.get_interview(interview.interview_id)
            return row is not None and row.status is not InterviewStatus.live

        took = await wait_until(finished, CUT_SHORT_BOUND, "the interview to leave `live`")
        print(f"\nfinished as cut short {took:.1f}s after the kill")
        assert await candidate.wait_agent_left(15), "the candidate was never let go"
    finally:
        await candidate.leave()
    row = stack.store.get_interview(interview.interview_id)
    assert row is not None and row.status is InterviewStatus.finished
    assert row.end_reason == CUT_SHORT_REASON
    report = stack.store.get_report(interview.interview_id)
    assert report is not None
    transcript = [line["text"] for line in report.report["transcript"]]
    assert all(text in transcript for text in said), "the report lost what the candidate said"


async def test_a_full_fleet_says_busy_with_a_time_to_retry(fleet_stack: Fleet) -> None:
    stack = fleet_stack
    stack.add_worker(MAX_INTERVIEWS_PER_WORKER="1")
    first = new_interview(stack)
    candidate = Candidate(first)
    try:
        await candidate.join()
        assert await candidate.wait_agent_turn_done(90), "the agent never greeted"
        await wait_until(
            lambda: fleet.capacity(stack.store, fresh_for=8, pending_for=30).free <= 0,
            10,
            "the worker's heartbeat to report it full",
        )
        uid, id_token = sign_in_anonymously(stack.emulator_host)
        response = httpx.post(
            f"{stack.api_url}/v1/interviews",
            json={"role": "backend-engineer"},
            headers={"Authorization": f"Bearer {id_token}"},
            timeout=10,
        )
    finally:
        await candidate.leave()
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith(":busy")
    assert int(response.headers["Retry-After"]) == body["retry_after"] > 0
    assert stack.store.active_interview(uid) is None, "a refused candidate must not hold an interview"
