"""A livekit-server that dies mid-interview loses no interview, on the real stack (its own livekit-server,
the Auth emulator, the api and an agent worker as processes, a simulated candidate).

The node is down for longer than the rtc clients' own reconnect attempts last. The agent's job sees a lost
connection, not an ending: it releases its lease and leaves without a report.
The candidate rejoins through the api as the web app does, and a fresh job takes the interview over from
the store: every earlier turn kept, an apology, and the open question asked again. Before, the job ended the
interview ("the room was closed") the moment its server went away.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from interviewer.bench.candidate import Candidate, Interview, sign_in_anonymously, start_interview
from interviewer.bench.session import agent_turn_done
from interviewer.interview.wording import RESUME_LINE, RESUME_QUESTION_LEAD
from interviewer.livekit_server import wait_ready
from interviewer.procs import ManagedProcess, group_alive
from interviewer.store import InterviewStatus, Store, fleet
from tests.fixtures.firebase import FirebaseEmulator
from tests.fixtures.livekit import LiveKitServer, start_livekit, stop_checked
from tests.fixtures.stack import stack_env, start_api, start_worker
from tests.fixtures.waiting import wait_until

pytestmark = pytest.mark.integration

READY = "Yes, I am ready. Thank you."
NODE_DOWN_S = 28.0  # the rtc clients retry for about 25 s


@dataclass
class OwnStack:
    livekit: LiveKitServer
    api_url: str
    emulator_host: str
    store: Store


@pytest.fixture
def own_stack(firebase_emulator: FirebaseEmulator, tmp_path: Path) -> Iterator[OwnStack]:
    """A stack on a livekit-server of its own: the test kills it, and no other test may lose its rooms."""
    livekit = start_livekit(tmp_path / "livekit")
    processes: list[ManagedProcess] = []
    store: Store | None = None
    try:
        env = stack_env(livekit, firebase_emulator, tmp_path)
        env["MAX_INTERVIEWS_PER_WORKER"] = "1"  # one interview: one warm process to start
        api, api_url = start_api(env, tmp_path)
        processes.append(api)
        worker, _health = start_worker(env, tmp_path)
        processes.append(worker)
        store = Store(env["DATABASE_URL"])
        yield OwnStack(livekit, api_url, firebase_emulator.host, store)
    finally:
        for process in reversed(processes):
            pgid = process.pgid
            process.stop(timeout=40)
            assert not group_alive(pgid), f"{process.name}'s process group survived"
        stop_checked(livekit.process)
        if store is not None:
            store.close()


def restart(livekit: LiveKitServer, down_s: float) -> None:
    """SIGKILL the server (a crashed node: nobody is told), keep it down for longer than the rtc clients'
    own reconnect attempts last, and start it again on the same ports. (A node back within those attempts
    is rejoined by the clients themselves, and the interview simply goes on.)"""
    process = livekit.process
    process.crash()
    time.sleep(down_s)  # the fault's length, not synchronisation
    process.start()
    wait_ready(process, livekit.config, timeout=30)


def replied(store: Store, interview_id: str) -> bool:
    """An agent line follows a line of the candidate's (which the recogniser may have split in two)."""
    speakers = [t.speaker for t in store.turns(interview_id)]
    return "candidate" in speakers and "agent" in speakers[speakers.index("candidate") :]


def agent_lines(store: Store, interview_id: str) -> list[str]:
    return [t.text for t in store.turns(interview_id) if t.speaker == "agent"]


async def test_an_interview_survives_its_livekit_server_dying(own_stack: OwnStack) -> None:
    stack = own_stack
    resume_lead = f"{RESUME_LINE} {RESUME_QUESTION_LEAD}"
    uid, id_token = sign_in_anonymously(stack.emulator_host)
    interview: Interview = start_interview(stack.api_url, id_token, "backend-engineer", uid=uid)
    candidate = Candidate(interview)
    members = [candidate]
    try:
        await candidate.join()
        assert await candidate.wait_agent_turn_done(90), "the agent never greeted"
        await candidate.say(READY)
        assert await candidate.wait_agent_turn_done(60), "no warm-up question"
        # The journal lands a line just after it is heard, on a thread of its own.
        await wait_until(
            lambda: replied(stack.store, interview.interview_id),
            10,
            "the agent's reply to the candidate in the store",
        )
        before = [(t.seq, t.speaker, t.text) for t in stack.store.turns(interview.interview_id)]
        first_lease = fleet.lease_of(stack.store, interview.interview_id)
        assert first_lease is not None and first_lease.takeovers == 0

        await asyncio.to_thread(restart, stack.livekit, NODE_DOWN_S)
        recoveries: list[str] = []
        talker, done = await agent_turn_done(candidate, stack.api_url, 90, recoveries=recoveries)
        members.append(talker)
        assert done, f"no agent took the interview over (the candidate's recoveries: {recoveries})"
        await wait_until(
            lambda: agent_lines(stack.store, interview.interview_id)[-1].startswith(resume_lead),
            10,
            "the resumed question in the store",
        )
        after = [(t.seq, t.speaker, t.text) for t in stack.store.turns(interview.interview_id)]
        assert after[: len(before)] == before, "turns said before the crash were lost or changed"
        # The first agent may have prompted the silent candidate while its connection was retrying.
        # The question open when the first job left: the one asked before the crash, or, if that job's
        # silence prompts moved the interview on while its connection was retrying, the one it asked then.
        said = [text for _seq, speaker, text in after if speaker == "agent"]
        question = said[-1].removeprefix(resume_lead).strip()
        assert question and any(question in line for line in said[:-1]), (question, said)
        lease = fleet.lease_of(stack.store, interview.interview_id)
        assert lease is not None and lease.takeovers == 1 and lease.job_id != first_lease.job_id
        current = stack.store.get_interview(interview.interview_id)
        assert current is not None and current.status is InterviewStatus.live
        assert stack.store.get_report(interview.interview_id) is None, "a report was written at the crash"
    finally:
        for member in set(members):
            await member.leave()
