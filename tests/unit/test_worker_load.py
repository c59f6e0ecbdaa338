"""The load a worker reports: interviews, CPU and reply latency; job processes report replies over a real
Unix datagram socket."""

from __future__ import annotations

import os
import time

import pytest

from interviewer.agent.load import LOAD_SOCKET_ENV, MIN_REPLIES_FOR_P95, WorkerLoad, _send_reply_latency


def test_the_count_of_interviews_is_the_load_while_replies_are_fast() -> None:
    load = WorkerLoad(4, reply_budget=1.5, cpu_full=0.9)
    for _ in range(MIN_REPLIES_FOR_P95):
        load.reply_heard(0.8)
    reading = load.reading(active=2)
    assert reading.load == pytest.approx(0.5)
    assert reading.limited_by == "interviews"
    assert reading.reply_p95 == pytest.approx(0.8)


def test_slow_replies_close_the_worker_to_new_candidates_before_it_is_counted_full() -> None:
    load = WorkerLoad(4, reply_budget=1.5, cpu_full=0.9)
    for seconds in (1.0, 1.2, 2.4, 2.6, 3.0):
        load.reply_heard(seconds)
    reading = load.reading(active=2)
    assert reading.load == 1.0 and not reading.accepting
    assert reading.limited_by == "replies"
    # A candidate the api already admitted is in the room: LiveKit still offers this worker the job.
    assert reading.slots_used == pytest.approx(0.5)


def test_livekit_is_told_full_only_when_every_slot_is_taken() -> None:
    load = WorkerLoad(2, reply_budget=1.5, cpu_full=0.9)
    assert [load.reading(active=n).slots_used for n in (0, 1, 2)] == [0.0, 0.5, 1.0]


def test_an_idle_worker_always_takes_its_first_interview() -> None:
    load = WorkerLoad(4, reply_budget=1.5, cpu_full=0.9)
    for _ in range(MIN_REPLIES_FOR_P95):
        load.reply_heard(5.0)  # slow replies of interviews that have ended
    assert load.reading(active=0).load == 0.0


def test_old_replies_leave_the_window() -> None:
    load = WorkerLoad(4, reply_budget=1.5, cpu_full=0.9)
    long_ago = time.monotonic() - 3600
    for _ in range(MIN_REPLIES_FOR_P95):
        load.reply_heard(5.0, at=long_ago)
    assert load.reading(active=1).reply_p95 is None


def test_job_processes_report_replies_over_the_socket() -> None:
    load = WorkerLoad(2, reply_budget=1.5, cpu_full=0.9)
    previous = os.environ.get(LOAD_SOCKET_ENV)
    load.start()
    try:
        for _ in range(MIN_REPLIES_FOR_P95):
            _send_reply_latency(2.0)
        deadline = time.monotonic() + 5
        while load.reading(active=1).reply_p95 is None and time.monotonic() < deadline:
            time.sleep(0.01)
        reading = load.reading(active=1)
        assert reading.reply_p95 == pytest.approx(2.0)
        assert reading.load == 1.0
    finally:
        load.stop()
        if previous is None:
            os.environ.pop(LOAD_SOCKET_ENV, None)
        else:
            os.environ[LOAD_SOCKET_ENV] = previous
