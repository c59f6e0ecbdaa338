"""When recovery takes a dispatch as dropped: LiveKit's own records, read as they come from its API."""

from __future__ import annotations

import time

from livekit import api as lkapi

from interviewer.agent.recovery import DISPATCH_IN_FLIGHT_SECONDS, dispatch_is_live

AGENT = "interviewer"


def dispatch(
    *statuses: lkapi.JobStatus.ValueType, age: float = 0.0, agent: str = AGENT
) -> lkapi.AgentDispatch:
    created_ns = int((time.time() - age) * 1e9)  # the server's unit; recovery normalises any of s, ms, ns
    jobs = [lkapi.Job(state=lkapi.JobState(status=status)) for status in statuses]
    return lkapi.AgentDispatch(
        agent_name=agent, state=lkapi.AgentDispatchState(jobs=jobs, created_at=created_ns)
    )


def test_a_dispatch_being_assigned_is_not_duplicated() -> None:
    assert dispatch_is_live(dispatch(age=0.3), AGENT)


def test_a_dispatch_without_a_job_past_the_window_was_dropped() -> None:
    assert not dispatch_is_live(dispatch(age=DISPATCH_IN_FLIGHT_SECONDS + 0.5), AGENT)


def test_a_pending_or_running_job_is_live_whatever_its_age() -> None:
    assert dispatch_is_live(dispatch(lkapi.JobStatus.JS_PENDING, age=60), AGENT)
    assert dispatch_is_live(dispatch(lkapi.JobStatus.JS_FAILED, lkapi.JobStatus.JS_RUNNING, age=60), AGENT)


def test_ended_jobs_and_other_agents_do_not_count() -> None:
    assert not dispatch_is_live(dispatch(lkapi.JobStatus.JS_SUCCESS, lkapi.JobStatus.JS_FAILED), AGENT)
    assert not dispatch_is_live(dispatch(lkapi.JobStatus.JS_RUNNING, agent="someone-else"), AGENT)
