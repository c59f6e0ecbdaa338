"""The store and the fleet's leases and heartbeats against a real SQLite file and a real PostgreSQL, as the
api and the agent workers share them (`store_url` runs each test on both)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import Connection

from interviewer.store import ActiveInterviewExists, InterviewStatus, Store, fleet
from interviewer.store.models import utcnow

T = TypeVar("T")


def _at_once(work: Callable[[], T], callers: int) -> tuple[list[T], list[BaseException]]:
    """Run `work` in `callers` threads released together by a barrier."""
    start = threading.Barrier(callers)
    results: list[T] = []
    errors: list[BaseException] = []

    def call() -> None:
        start.wait(timeout=10)
        try:
            results.append(work())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = Store(store_url)
    try:
        yield store
    finally:
        store.close()


def _open(store: Store, uid: str, interview_id: str) -> None:
    store.open_interview(
        candidate_uid=uid,
        name=None,
        email=None,
        interview_id=interview_id,
        role="backend-engineer",
        plan={"questions": []},
        duration_minutes=10,
        room="room-" + interview_id,
    )


def test_processes_opening_a_new_database_at_once_all_get_the_schema(
    store_url: str, request: pytest.FixtureRequest
) -> None:
    # The api, the agent worker and the CLI each open the store at start-up; on a fresh database they race
    # to bring the schema to head (and, on SQLite, to switch the file to WAL). One lock per database makes
    # them take turns: none may fail with "already exists", "database is locked" or a duplicate version row.
    rounds = 6 if "postgres" in store_url else 10
    for round_number in range(rounds):
        url = store_url
        if round_number:
            if "postgres" in store_url:
                url = request.getfixturevalue("postgres_server").new_database()
            else:
                url = store_url.replace("store.sqlite", f"round-{round_number}.sqlite")
        stores, errors = _at_once(lambda url=url: Store(url), callers=4)  # type: ignore[misc]
        assert not errors, f"round {round_number}: {errors[0]!r}"
        assert len(stores) == 4
        stores[0].ping()
        assert stores[0].list_interviews("nobody") == []
        for opened in stores:
            opened.close()


def test_one_active_interview_per_candidate_is_kept_by_the_database(store: Store) -> None:
    _open(store, "uid-1", "iv-1")
    with pytest.raises(ActiveInterviewExists) as raised:
        _open(store, "uid-1", "iv-2")
    assert raised.value.interview_id == "iv-1"
    assert store.end_interview("iv-1", InterviewStatus.abandoned, "left")
    assert not store.end_interview("iv-1", InterviewStatus.abandoned, "again")
    _open(store, "uid-1", "iv-3")  # the partial index only counts active interviews
    assert [iv.id for iv in store.list_interviews("uid-1")] == ["iv-3", "iv-1"]


def test_turns_tool_events_and_the_report_round_trip(store: Store) -> None:
    _open(store, "uid-1", "iv-1")
    assert store.claim_interview("iv-1", "job-a")
    store.add_turn("iv-1", "agent", "Hello — tell me about a system you built.", question_id="q1")
    store.add_turn("iv-1", "candidate", "A queue, with retries.")
    store.add_tool_event("iv-1", "record_answer", {"question_id": "q1", "quote": "retries"}, "ok")
    assert [(t.seq, t.speaker) for t in store.turns("iv-1")] == [(1, "agent"), (2, "candidate")]
    assert store.tool_events("iv-1")[0].arguments == {"question_id": "q1", "quote": "retries"}
    store.save_report(
        "iv-1",
        report={"recommendation": "hire", "nested": {"ok": True}},
        markdown="# r",
        html="<h1>r</h1>",
        scores=[("systems", 4, {"quotes": ["retries"]})],
        reason="completed",
    )
    interview = store.get_interview("iv-1")
    assert interview is not None and interview.status == InterviewStatus.finished
    report = store.get_report("iv-1")
    assert report is not None and report.report["nested"] == {"ok": True}


def test_only_one_job_claims_an_interview(store: Store) -> None:
    _open(store, "uid-1", "iv-1")
    wins, errors = _at_once(lambda: store.claim_interview("iv-1", f"job-{threading.get_ident()}"), 4)
    assert not errors, errors
    assert sorted(wins) == [False, False, False, True]
    interview = store.get_interview("iv-1")
    assert interview is not None and interview.status == InterviewStatus.live
    lease = fleet.lease_of(store, "iv-1")
    assert lease is not None and lease.job_id == interview.agent_job_id and lease.takeovers == 0


def test_a_lease_is_renewed_only_by_its_job_and_taken_over_once_expired(store: Store) -> None:
    _open(store, "uid-1", "iv-1")
    assert store.claim_interview("iv-1", "job-a", lease_seconds=30)
    assert fleet.renew_lease(store, "iv-1", "job-a", ttl=30)
    assert not fleet.renew_lease(store, "iv-1", "job-b", ttl=30)
    assert not fleet.take_over(store, "iv-1", "job-b", ttl=30)  # job-a is alive
    assert fleet.orphaned_interviews(store) == []

    fleet.expire_lease(store, "iv-1")
    assert [iv.id for iv in fleet.orphaned_interviews(store)] == ["iv-1"]
    assert fleet.orphaned_interviews(store, expired_for=60) == []
    wins, errors = _at_once(lambda: fleet.take_over(store, "iv-1", f"job-{threading.get_ident()}", 30), 4)
    assert not errors, errors
    assert sorted(wins) == [False, False, False, True]
    lease = fleet.lease_of(store, "iv-1")
    interview = store.get_interview("iv-1")
    assert lease is not None and interview is not None
    assert lease.takeovers == 1 and lease.job_id == interview.agent_job_id != "job-a"
    assert not fleet.renew_lease(store, "iv-1", "job-a", ttl=30)  # the old job learns it lost


def test_a_released_lease_is_taken_over_at_once_and_renewed_by_nobody(store: Store) -> None:
    _open(store, "uid-1", "iv-1")
    assert store.claim_interview("iv-1", "job-a", lease_seconds=30)
    assert fleet.release_lease(store, "iv-1", "job-a")
    assert not fleet.release_lease(store, "iv-1", "job-a")  # no longer this job's
    assert not fleet.renew_lease(store, "iv-1", "job-a", ttl=30)  # the leaving job's last renewal
    assert fleet.renew_leases(store, ["job-a"], ttl=30) == 0  # nor its worker vouching for the process
    assert [i.id for i in fleet.orphaned_interviews(store)] == ["iv-1"]
    assert fleet.take_over(store, "iv-1", "job-b", ttl=30)


def test_capacity_counts_fresh_accepting_workers_and_pending_interviews(store: Store) -> None:
    assert not fleet.capacity(store, fresh_for=10, pending_for=30).known
    fleet.beat(store, "w1", capacity=4, active=1, load=0.2, accepting=True)
    fleet.beat(store, "w2", capacity=4, active=0, load=0.0, accepting=False)  # draining
    fleet.beat(store, "w1", capacity=4, active=2, load=0.5, accepting=True)  # updates, no second row
    _open(store, "uid-1", "iv-1")  # handed out, not yet claimed
    now = fleet.capacity(store, fresh_for=10, pending_for=30)
    assert (now.workers, now.free, now.pending) == (2, 1, 1)
    later = fleet.capacity(store, fresh_for=10, pending_for=30, now=utcnow() + timedelta(seconds=60))
    assert not later.known and later.pending == 0  # stale beats and stale pending interviews do not count
    fleet.forget_worker(store, "w1")
    assert fleet.capacity(store, fresh_for=10, pending_for=30).workers == 1


def test_capacity_keeps_a_slot_for_each_interview_whose_job_died(store: Store) -> None:
    fleet.beat(store, "w1", capacity=2, active=0, load=0.0, accepting=True)
    _open(store, "uid-1", "iv-1")
    assert store.claim_interview("iv-1", "job-a", lease_seconds=30)
    fleet.beat(store, "w2", capacity=2, active=1, load=0.5, accepting=True)  # job-a's worker
    fleet.beat(store, "w1", capacity=2, active=0, load=0.0, accepting=True)  # both beats newer than the claim
    assert fleet.capacity(store, fresh_for=10, pending_for=30).free == 3
    fleet.forget_worker(store, "w2")  # its worker died ...
    fleet.expire_lease(store, "iv-1")  # ... and with it the job: the candidate waits for a take-over
    after = fleet.capacity(store, fresh_for=10, pending_for=30)
    assert (after.free, after.orphaned) == (1, 1)


def test_a_claim_holds_its_slot_before_its_worker_counts_it(store: Store) -> None:
    """A job claims its interview as it starts; until its worker's next beat, the claim itself holds the
    slot (the cluster bench found a second candidate admitted into that gap, whose agent came 6 s late)."""
    fleet.beat(store, "w1", capacity=2, active=1, load=0.5, accepting=True)
    _open(store, "uid-1", "iv-1")
    assert fleet.capacity(store, fresh_for=10, pending_for=30).free == 0  # handed out: pending
    assert store.claim_interview("iv-1", "job-a", lease_seconds=30)
    gap = fleet.capacity(store, fresh_for=10, pending_for=30)
    assert (gap.free, gap.pending, gap.unseen) == (0, 0, 1)  # claimed, not yet in a beat
    fleet.beat(store, "w1", capacity=2, active=2, load=1.0, accepting=False)
    counted = fleet.capacity(store, fresh_for=10, pending_for=30)
    assert (counted.free, counted.unseen) == (0, 0)
    fleet.beat(store, "w1", capacity=2, active=1, load=0.5, accepting=True)  # it ended: a slot again
    assert fleet.capacity(store, fresh_for=10, pending_for=30).free == 1


class _Full(Exception):
    pass


def test_admission_takes_each_free_slot_once_across_api_instances(store: Store, store_url: str) -> None:
    """Two api instances (two stores, as two processes would have) admit a burst against three free
    slots: the check and the insert are one step under the database's admission lock, so exactly three
    candidates get in. Without the lock each instance reads three free slots and both admit."""
    other = Store(store_url)
    fleet.beat(store, "w1", capacity=3, active=0, load=0.0, accepting=True)
    instances = [store, other]
    turn = iter(range(1000))
    lock = threading.Lock()

    def admit(conn: Connection) -> None:
        if fleet.read_capacity(conn, fresh_for=10, pending_for=30).free <= 0:
            raise _Full
        time.sleep(0.02)  # not synchronisation: widens the gap between the check and the insert

    def attempt() -> bool:
        with lock:
            n = next(turn)
        try:
            instances[n % 2].open_interview(
                candidate_uid=f"uid-{n}",
                name=None,
                email=None,
                interview_id=f"iv-{n}",
                role="backend-engineer",
                plan={"questions": []},
                duration_minutes=10,
                room=f"room-{n}",
                admit=admit,
            )
        except _Full:
            return False
        return True

    try:
        admitted, errors = _at_once(attempt, 10)
    finally:
        other.close()
    assert not errors, errors
    assert sorted(admitted) == [False] * 7 + [True] * 3
    assert fleet.capacity(store, fresh_for=10, pending_for=30).free == 0
