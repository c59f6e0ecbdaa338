"""The fleet's shared state in the database: interview leases and worker heartbeats.

Leases are how an interview survives its worker: the job that runs it renews a short lease; when the job
dies, the lease runs out and another job takes the interview over, with everything said so far already in
the store. Heartbeats are how the api knows whether anybody can take one more candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, delete, func, select, update

from interviewer.store.models import Interview, InterviewLease, InterviewStatus, WorkerBeat, utcnow
from interviewer.store.repository import Store

# A lease is renewed every LEASE_RENEW_SECONDS, both by the job that runs the interview and by its worker for
# every job process still alive; another job may take the interview over once nobody has renewed it for
# LEASE_SECONDS. The worker's renewal is what keeps a job merely starved of CPU (alive, but its own renewals
# late) from being replaced while it still speaks: only a dead job process, or a dead worker, lets it lapse.
LEASE_RENEW_SECONDS = 1.0
LEASE_SECONDS = 4.0
RELEASED = "released"  # the job id of a lease its job gave up: nobody renews it


@dataclass(frozen=True)
class Capacity:
    """What the fleet can take right now, as the api sees it."""

    workers: int  # fresh heartbeats, accepting or not
    free: int  # interviews that can still start at once
    pending: int  # interviews handed out but not yet claimed by an agent
    orphaned: int = 0  # live interviews whose job died, waiting for a worker to take them over
    unseen: int = 0  # claimed since the oldest fresh beat: perhaps not counted by their worker yet

    @property
    def known(self) -> bool:
        return self.workers > 0


def renew_lease(store: Store, interview_id: str, job_id: str, ttl: float) -> bool:
    """Extend this job's lease. False if another job has taken the interview over: stop at once."""
    with store.session() as s:
        result = s.execute(
            update(InterviewLease)
            .where(InterviewLease.interview_id == interview_id, InterviewLease.job_id == job_id)
            .values(expires_at=utcnow() + timedelta(seconds=ttl))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def renew_leases(store: Store, job_ids: Sequence[str], ttl: float) -> int:
    """Extend the leases held by these jobs (a worker vouching for its live job processes); returns how
    many. A lease another job has taken over is left alone: it is no longer held by any of these ids."""
    if not job_ids:
        return 0
    with store.session() as s:
        result = s.execute(
            update(InterviewLease)
            .where(InterviewLease.job_id.in_(list(job_ids)))
            .values(expires_at=utcnow() + timedelta(seconds=ttl))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def expire_lease(store: Store, interview_id: str) -> None:
    """Its job is known dead (the worker saw it exit): no need to wait for the lease to run out."""
    with store.session() as s:
        s.execute(
            update(InterviewLease)
            .where(InterviewLease.interview_id == interview_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def release_lease(store: Store, interview_id: str, job_id: str) -> bool:
    """This job leaves a live interview for another to take over at once (it lost its connection to the
    room). The lease then names no job, so neither this job's renewals nor its worker's vouching extend it.
    False if the lease was no longer this job's."""
    with store.session() as s:
        result = s.execute(
            update(InterviewLease)
            .where(InterviewLease.interview_id == interview_id, InterviewLease.job_id == job_id)
            .values(job_id=RELEASED, expires_at=utcnow() - timedelta(seconds=1))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def take_over(store: Store, interview_id: str, job_id: str, ttl: float) -> bool:
    """Atomically take a live interview whose lease has expired. False if its job is alive or another
    job won."""
    now = utcnow()
    with store.session() as s:
        result = s.execute(
            update(InterviewLease)
            .where(InterviewLease.interview_id == interview_id, InterviewLease.expires_at < now)
            .values(
                job_id=job_id,
                expires_at=now + timedelta(seconds=ttl),
                takeovers=InterviewLease.takeovers + 1,
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        s.execute(update(Interview).where(Interview.id == interview_id).values(agent_job_id=job_id))
        return True


def lease_of(store: Store, interview_id: str) -> InterviewLease | None:
    with store.session() as s:
        return s.get(InterviewLease, interview_id)


def _orphaned(columns: Any, expired_before: datetime) -> Select[Any]:
    """Live interviews whose lease ran out before `expired_before`: their job died."""
    return (
        select(columns)
        .select_from(Interview)
        .join(InterviewLease, InterviewLease.interview_id == Interview.id)
        .where(Interview.status == InterviewStatus.live, InterviewLease.expires_at < expired_before)
    )


def orphaned_interviews(store: Store, *, expired_for: float = 0.0) -> Sequence[Interview]:
    """Live interviews whose job stopped renewing at least `expired_for` seconds ago."""
    with store.session() as s:
        return s.scalars(_orphaned(Interview, utcnow() - timedelta(seconds=expired_for))).all()


# -- workers --------------------------------------------------------------------------------------------


def beat(store: Store, worker_id: str, *, capacity: int, active: int, load: float, accepting: bool) -> None:
    values = {"capacity": capacity, "active": active, "load": load, "accepting": accepting}
    with store.session() as s:
        updated = s.execute(
            update(WorkerBeat).where(WorkerBeat.worker_id == worker_id).values(renewed_at=utcnow(), **values)
        )
        if not updated.rowcount:  # type: ignore[attr-defined]
            # No race on the insert: one worker beats from one task.
            s.add(WorkerBeat(worker_id=worker_id, renewed_at=utcnow(), **values))


def forget_worker(store: Store, worker_id: str) -> None:
    with store.session() as s:
        s.execute(delete(WorkerBeat).where(WorkerBeat.worker_id == worker_id))


def capacity(store: Store, *, fresh_for: float, pending_for: float, now: datetime | None = None) -> Capacity:
    with store.engine.connect() as conn:
        return read_capacity(conn, fresh_for=fresh_for, pending_for=pending_for, now=now)


def read_capacity(
    conn: Connection, *, fresh_for: float, pending_for: float, now: datetime | None = None
) -> Capacity:
    """What the fleet can take, read in the caller's transaction (the api reads it under the admission
    lock, then opens the interview in the same transaction).

    A slot is taken by an interview a fresh worker reports running, by one handed out and not yet claimed
    (`pending`: its worker counts it once its job starts, and writes a beat then), and by a live interview
    whose lease lapsed (its worker died): that candidate is already in the room, and a survivor must take
    it over before any new candidate starts."""
    now = now or utcnow()
    beats = conn.execute(
        select(WorkerBeat.capacity, WorkerBeat.active, WorkerBeat.accepting, WorkerBeat.renewed_at).where(
            WorkerBeat.renewed_at >= now - timedelta(seconds=fresh_for)
        )
    ).all()
    pending = (
        conn.scalar(
            select(func.count()).where(
                Interview.status == InterviewStatus.created,
                Interview.created_at >= now - timedelta(seconds=pending_for),
            )
        )
        or 0
    )
    orphaned = conn.scalar(_orphaned(func.count(), now)) or 0
    # A job claims its interview as it starts, and its worker's next beat counts it a moment later: in
    # between the interview is neither pending nor in any `active`. Counting every claim newer than the
    # oldest fresh beat closes that gap (at the price of counting some twice for less than a heartbeat).
    oldest = min((b.renewed_at for b in beats), default=now)
    unseen = (
        conn.scalar(
            select(func.count()).where(
                Interview.status == InterviewStatus.live, Interview.started_at > oldest
            )
        )
        or 0
    )
    room = sum(max(0, b.capacity - b.active) for b in beats if b.accepting)
    free = room - pending - orphaned - unseen
    return Capacity(workers=len(beats), free=free, pending=pending, orphaned=orphaned, unseen=unseen)


__all__ = [
    "LEASE_RENEW_SECONDS",
    "LEASE_SECONDS",
    "RELEASED",
    "Capacity",
    "beat",
    "capacity",
    "expire_lease",
    "forget_worker",
    "lease_of",
    "orphaned_interviews",
    "read_capacity",
    "release_lease",
    "renew_lease",
    "renew_leases",
    "take_over",
]
