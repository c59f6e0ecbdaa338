"""Text mode end to end: the real CLI, a real AgentSession, a real SQLite file, a real process kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from interviewer.store import Store

DATA = Path(__file__).parent.parent / "data"
ANSWERS = DATA / "answers-backend-engineer.txt"


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "INTERVIEWER_MODE": "test", "INTERVIEWER_DATA_DIR": str(tmp_path / "var")}


def test_scripted_rehearsal_ends_and_writes_a_sound_report(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    out = tmp_path / "out.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "interviewer.cli",
            "rehearse",
            "--role",
            "backend-engineer",
            "--answers",
            str(ANSWERS),
            "--report",
            str(out),
            "--database",
            db,
        ],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Interviewer: Hello" in result.stdout
    report = json.loads(out.read_text())
    for key in ("interview_id", "role", "competencies", "overall", "transcript", "guard"):
        assert key in report
    assert report["role"] == "backend-engineer"
    assert report["end_reason"] != "the candidate left", "the interview must reach its own end"
    assert report["overall"]["recommendation"] in {
        "strong_hire",
        "hire",
        "lean_hire",
        "lean_no_hire",
        "no_hire",
    }
    candidate_turns = [t["text"] for t in report["transcript"] if t["speaker"] == "candidate"]
    assert 8 <= len(candidate_turns) <= 12
    quotes = [e["quote"] for c in report["competencies"] for e in c["evidence"]]
    assert quotes
    for quote in quotes:
        assert any(quote in turn for turn in candidate_turns), quote
    for competency in report["competencies"]:
        assert {"id", "name", "score", "evidence"} <= set(competency)
    assert report["guard"]["refused_tool_calls"] >= 1

    # No tool took effect before the guard opened: every event before the candidate's first words is a
    # refusal, and the Director's first question came after them.
    store = Store(db)
    first_words = store.turns(report["interview_id"])
    first_candidate = next(t for t in first_words if t.speaker == "candidate")
    events = store.tool_events(report["interview_id"])
    early = [e for e in events if e.at <= first_candidate.ended_at]
    assert early and all(e.outcome == "refused" for e in early)
    assert store.get_report(report["interview_id"]) is not None


def test_unknown_role_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "interviewer.cli",
            "rehearse",
            "--role",
            "astronaut",
            "--answers",
            str(ANSWERS),
        ],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown role 'astronaut'" in result.stderr


def _wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_no_turn_is_lost_when_the_process_is_killed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    answers = ANSWERS.read_text().splitlines()[:4]
    proc = subprocess.Popen(
        [sys.executable, "-m", "interviewer.cli", "rehearse", "--role", "backend-engineer", "--database", db],
        env=_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        store_path = tmp_path / "db.sqlite"
        _wait_for(store_path.exists, 60, "the database")
        store = Store(db)

        def candidate_turns() -> list[str]:
            interviews = store.list_interviews("local-rehearsal")
            if not interviews:
                return []
            return [t.text for t in store.turns(interviews[0].id) if t.speaker == "candidate"]

        assert proc.stdin is not None
        for count, answer in enumerate(answers, start=1):
            proc.stdin.write(answer + "\n")
            proc.stdin.flush()
            _wait_for(lambda n=count: len(candidate_turns()) >= n, 30, f"answer {count} in the database")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    after = Store(db)
    interview = after.list_interviews("local-rehearsal")[0]
    assert [t.text for t in after.turns(interview.id) if t.speaker == "candidate"] == answers
    assert interview.status == "live", "killed mid-run: not finished, but nothing said is lost"
    assert after.get_report(interview.id) is None
