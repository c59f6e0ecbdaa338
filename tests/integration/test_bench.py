"""`interviewer bench` as an operator runs it, against the real stack (livekit-server, Auth emulator, api,
agent worker): three sessions at once, one per scenario (candidate first, an observer in the room first,
the candidate talking over the greeting), each until the greeting has played. Every session must hear the
greeting within the bound, with one agent in the room, one job assigned, the room's node and worker read
from the node's log, and no tool call taking effect before the Greeting Guard opened; the summary's
intervals must be the Wilson / order-statistic ones for those numbers, the plot written, and nothing left
running by the bench itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from interviewer.bench.stats import wilson
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.integration

SCENARIOS = ("candidate_first", "observer_first", "talk_over")


@pytest.mark.timeout(240)
def test_bench_runs_sessions_and_summarises(stack: Stack, tmp_path: Path) -> None:
    assert stack.worker is not None and stack.livekit.log_path is not None
    out = tmp_path / "results"
    env = {
        **os.environ,
        "LIVEKIT_API_KEY": stack.livekit.api_key,
        "LIVEKIT_API_SECRET": stack.livekit.api_secret,
    }
    argv = [
        sys.executable, "-m", "interviewer.cli", "bench",
        "--api", stack.api_url, "--emulator", stack.emulator_host,
        "--database", stack.env["DATABASE_URL"],
        "--livekit-log", str(stack.livekit.log_path), "--worker-pid", str(stack.worker.pid),
        "--sessions", "3", "--concurrency", "3", "--scenario", *SCENARIOS, "--answers", "0",
        "--audio-bound", "60", "--session-timeout", "150", "--max-minutes", "3",
        "--out", str(out), "--label", "t",
    ]  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=220)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"

    lines = (out / "t.sessions.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["index"] for r in records] == [0, 1, 2]
    assert [r["scenario"] for r in records] == list(SCENARIOS)
    node = stack.livekit.log_path.parent.name
    for r in records:
        assert not r.get("error"), r
        assert r["audio_ok"] is True, r
        assert 0 <= r["dispatch_s"] <= r["greeting_s"] <= 60, r
        assert len(r["agents_seen"]) == 1 and r["max_agents_at_once"] == 1, r  # neither missed nor duplicated
        assert r["voices_at_once"] == 1, r  # the agent was heard, and only one
        assert r["jobs_assigned"] == 1, r
        assert r["node"] == node, r
        assert r["worker"] and r["worker"].startswith("AW_"), r  # a --api run knows the worker by its id
        assert r["tool_calls_before_guard"] == 0, r
        assert r["greeted"] is True, r  # the greeting played to its end and the agent listened

    summary = json.loads((out / "t.summary.json").read_text())
    assert summary["sessions"] == 3 and summary["errors"] == 0
    audio = summary["audio_startup"]
    assert (audio["k"], audio["n"]) == (3, 3)
    assert audio["ci95"] == pytest.approx(list(wilson(3, 3)))
    assert audio["ci95"][0] == pytest.approx(0.4385, abs=1e-3)
    greeting = sorted(r["greeting_s"] for r in records)
    assert summary["greeting_s"]["n"] == 3
    assert summary["greeting_s"]["p50"] == pytest.approx(greeting[1])
    # Three samples cannot bound a median at 95%: the interval says so instead of inventing a number.
    assert summary["greeting_s"]["p50_ci95"] == [None, None]
    assert summary["missed_dispatch"]["k"] == 0 and summary["duplicate_agents"]["k"] == 0
    assert summary["agents_at_once_over_1"]["k"] == 0 and summary["agents_heard_at_once_over_1"]["k"] == 0
    assert summary["by_node"] == {node: 3}
    assert summary["orphans_after_run"] == []
    cpu = summary["resources"]["cpu_percent_per_interview"]
    assert cpu["n"] >= 1 and cpu["p50"] > 0, summary["resources"]
    assert (out / "t.png").stat().st_size > 10_000
    assert "audio startup ok 3/3" in done.stdout
