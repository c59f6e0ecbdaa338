"""`interviewer up --cluster` as a load test would run it: Redis, PostgreSQL, two livekit nodes sharing the
Redis, two api instances and two agent workers under one supervisor. One voice interview goes in through the
second api (its own livekit node) and is read back through the first (the same Postgres); Ctrl-C stops
everything, leaves no process and removes the databases' directories."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from interviewer.bench.candidate import Candidate, sign_in_anonymously, start_interview
from tests.integration.test_supervisor import EXIT_TIMEOUT, Up

pytestmark = pytest.mark.integration

ANSWERS = [
    "Yes, I am ready. Thank you for having me.",
    "Let us stop here. Please end the interview.",
]


UP_TIMEOUT = 300.0  # two workers load their models on the same two cores


class ClusterUp(Up):
    def wait_cluster(self) -> tuple[list[str], str]:
        self.wait_up(UP_TIMEOUT)
        text = self.text()
        line = re.search(r"Interviewer cluster is up: (.+)", text)
        emulator = re.search(r"the Auth emulator answers at (\S+)", text)
        assert line and emulator, text
        return line.group(1).split(), emulator.group(1)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ClusterUp]:
    runner = ClusterUp(tmp_path, extra=("--cluster",), up_text="Interviewer cluster is up")
    try:
        yield runner
    finally:
        runner.close()


@pytest.mark.timeout(900)
async def test_cluster_runs_an_interview_and_stops_clean(cluster: ClusterUp) -> None:
    apis, emulator = cluster.wait_cluster()
    assert len(apis) == 2, apis
    names = set(re.findall(r"started (\S+) \(pid", cluster.text()))
    assert {"redis", "postgres", "livekit-1", "livekit-2", "api-1", "api-2"} <= names, names
    assert {"agent-worker-1", "agent-worker-2"} <= names, names
    scratch = [Path(p).parent for p in re.findall(r"log (/\S+/(?:postgres|redis)\.log)\)", cluster.text())]
    assert len(scratch) == 2 and all(p.is_dir() for p in scratch), scratch

    uid, token = sign_in_anonymously(emulator)
    interview = start_interview(apis[1], token, "backend-engineer", duration_minutes=5, uid=uid)
    candidate = Candidate(interview)
    await candidate.join()
    try:
        spoken = await candidate.converse(ANSWERS)
        left = await candidate.wait_agent_left(90)
    finally:
        await candidate.leave()
    assert candidate.timings.first_agent_audio is not None, "no agent audio ever arrived"
    assert len(spoken) == len(ANSWERS) and left, (spoken, left)

    # The other api instance reads the same Postgres.
    detail = httpx.get(
        f"{apis[0]}/v1/interviews/{interview.interview_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert detail.status_code == 200, detail.text
    assert detail.json()["status"] == "finished", detail.json()

    os.kill(cluster.proc.pid, signal.SIGINT)
    cluster.proc.wait(EXIT_TIMEOUT)
    deadline = time.monotonic() + 5
    while cluster.left() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not cluster.left(), f"left behind: {sorted(cluster.left())}\n{cluster.text()}"
    assert "all stopped; nothing left running." in cluster.text()
    assert not any(p.exists() for p in scratch), scratch
