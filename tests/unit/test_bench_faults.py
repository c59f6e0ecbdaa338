"""`interviewer bench --fault`: which sessions a fault touched, how their interviews ended, and the per-class
summary, on hand-made records (the fault itself needs the whole cluster: see the README's commands)."""

from __future__ import annotations

from typing import Any

import pytest

from interviewer.agent.recovery import CUT_SHORT_REASON, SWEEPER_JOB_ID
from interviewer.bench.faults import (
    LIVE,
    NEW,
    NEW_AFTER_S,
    UNAFFECTED,
    FaultRecord,
    fault_class,
    outcome,
    summarise_fault,
    took_over,
)

START, END = 1000.0, 1006.0  # the fault began, and its part answered again, at these wall-clock seconds


def session(began: float | None, ended: float | None, **more: Any) -> dict[str, Any]:
    return {"started_at": began, "ended_at": ended, **more}


@pytest.mark.parametrize(
    ("began", "ended", "expected"),
    [
        (990.0, 1003.0, LIVE),  # running when it began, over during it
        (990.0, 1100.0, LIVE),  # running through it
        (1000.0, 1001.0, LIVE),  # began in the very second the fault did: it was running
        (990.0, None, LIVE),  # never ended (cut off by the run's deadline)
        (990.0, 999.0, UNAFFECTED),  # over before it
        (990.0, 1000.0, UNAFFECTED),  # ended exactly as it began
        (1000.5, 1020.0, NEW),  # began while the part was down
        (END + NEW_AFTER_S, 1100.0, NEW),  # the last second of the catch-up window
        (END + NEW_AFTER_S + 0.1, 1100.0, UNAFFECTED),  # after it
        (None, None, UNAFFECTED),  # never got a slot
    ],
)
def test_fault_class(began: float | None, ended: float | None, expected: str) -> None:
    assert fault_class(session(began, ended), START, END) == expected


def test_instant_fault_counts_the_next_30_seconds_as_new() -> None:
    # kill-worker ends as it begins (the worker is never restarted)
    assert fault_class(session(1010.0, 1040.0), START, START) == NEW
    assert fault_class(session(1031.0, 1060.0), START, START) == UNAFFECTED


def test_outcome_reads_the_store_and_the_candidates_script() -> None:
    done = {"interview_id": "i", "greeted": True, "replies_s": [1.2], "status": "finished"}
    assert outcome(done, answers=1) == "finished"
    assert outcome({**done, "replies_s": []}, answers=1) == "cut short"  # a reply never came
    assert outcome({**done, "greeted": False}, answers=1) == "cut short"
    assert outcome({**done, "error": "ConnectionError: x"}, answers=1) == "cut short"
    assert outcome({**done, "status": "abandoned"}, answers=1) == "finished"  # End pressed after the script
    assert outcome({**done, "status": "abandoned", "replies_s": []}, answers=1) == "cut short"
    assert outcome({**done, "status": "live"}, answers=1) == "live"
    assert outcome({**done, "status": "created"}, answers=1) == "never started"
    assert outcome({**done, "status": None}, answers=1) == "unknown"
    assert outcome({"error": "CandidateError: POST /v1/interviews: 500 oops"}, answers=1) == "no interview"
    assert outcome({**done, "replies_s": []}, answers=0) == "finished"  # no answers asked for
    swept = {**done, "end_reason": CUT_SHORT_REASON}  # finished by the sweep from what was saved
    assert outcome(swept, answers=1) == "cut short"


def test_take_over_by_agents_seen_or_by_the_lease() -> None:
    assert not took_over({"agents_seen": ["agent-a"], "lease_takeovers": 0})
    assert took_over({"agents_seen": ["agent-a", "agent-b"], "lease_takeovers": 0})
    assert took_over({"agents_seen": ["agent-a"], "lease_takeovers": 1})
    assert not took_over({"agents_seen": [], "lease_takeovers": None})
    # The recovery sweep took the lease only to finish it: not a take-over by an agent...
    assert not took_over({"agents_seen": ["agent-a"], "lease_takeovers": 1, "lease_job_id": SWEEPER_JOB_ID})
    # ...unless an agent had taken it over before
    assert took_over({"agents_seen": ["agent-a"], "lease_takeovers": 2, "lease_job_id": SWEEPER_JOB_ID})


def test_summary_per_class() -> None:
    fine = {"interview_id": "i", "greeted": True, "replies_s": [1.0], "status": "finished", "audio_ok": True}
    records = [
        session(900.0, 950.0, **fine),  # unaffected
        session(990.0, 1020.0, **fine, agents_seen=["agent-a", "agent-b"], lease_takeovers=1),
        session(995.0, 1004.0, **{**fine, "status": "live", "greeted": False, "audio_ok": False}),
        session(1002.0, 1003.0, error="CandidateError: POST /v1/interviews: 500 db down", busy=2),
        session(1003.0, 1004.0, error="InterviewersBusy: busy", busy=3),
        session(1010.0, 1040.0, **fine),
    ]
    fault = FaultRecord(kind="restart-postgres", at_s=25, down_s=5, target="postgres")
    assert summarise_fault(records, fault, answers=1)["performed"] is False  # never began: nothing classed
    fault.started_at, fault.ended_at = START, END
    block = summarise_fault(records, fault, answers=1)
    live, new, unaffected = (block["by_class"][c] for c in (LIVE, NEW, UNAFFECTED))
    assert unaffected["sessions"] == 1 and unaffected["outcome"] == {"finished": 1}
    assert live["sessions"] == 2 and live["audio_startup"]["k"] == 1
    assert live["outcome"] == {"finished": 1, "live": 1} and live["took_over"] == 1
    assert new["sessions"] == 3 and new["audio_startup"]["k"] == 1
    assert new["outcome"] == {"no interview": 2, "finished": 1}
    assert new["errors"] == 2 and new["api_5xx"] == 1 and new["busy_answers"] == 5
    assert new["sessions_with_busy"] == 2
    assert new["error_kinds"] == {"CandidateError": 1, "InterviewersBusy": 1}
    assert [r["fault_class"] for r in records] == [UNAFFECTED, LIVE, LIVE, NEW, NEW, NEW]
    assert block["target"] == "postgres" and block["started_at"] == START
