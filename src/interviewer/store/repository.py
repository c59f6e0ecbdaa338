"""The one place that talks to the database. Each write commits at once: nothing waits for the end."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from interviewer.store import locks
from interviewer.store.migrate import upgrade_schema
from interviewer.store.models import (
    Candidate,
    Interview,
    InterviewLease,
    InterviewStatus,
    Report,
    Score,
    ToolEvent,
    Turn,
    utcnow,
)

# A holder that never renews (text mode runs in one process with its candidate) must not look abandoned.
UNRENEWED_LEASE_SECONDS = 6 * 3600.0


class ActiveInterviewExists(Exception):
    def __init__(self, interview_id: str) -> None:
        super().__init__(f"candidate already has an active interview {interview_id}")
        self.interview_id = interview_id


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    # WAL lets the api read while the agent writes; synchronous=NORMAL in WAL still survives a process
    # crash (only an OS crash can lose the last transactions).
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _switch_to_wal(cursor: Any, deadline_seconds: float = 5.0) -> None:
    # Switching a fresh file to WAL needs an exclusive lock, and SQLite reports a concurrent opener's
    # switch as "database is locked" at once, without its busy handler: so back off and retry here.
    deadline = time.monotonic() + deadline_seconds
    backoff = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + backoff > deadline:
                raise
            time.sleep(backoff)
            backoff = min(backoff * 2, 0.1)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # Every opener brings the schema to head (migrate.py: one at a time, under a per-database lock).
        upgrade_schema(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Built once: the hot path (open_interview) only binds parameters.
        upsert = sqlite_insert if self.engine.dialect.name == "sqlite" else postgresql_insert
        candidate = upsert(Candidate)
        self._upsert_candidate = candidate.on_conflict_do_update(
            index_elements=[Candidate.uid],
            set_={"name": candidate.excluded.name, "email": candidate.excluded.email},
        )
        self._insert_interview = insert(Interview)
        # SQLite has one writer at a time and parks the others in a sleep-and-retry busy handler (1, 2, 5,
        # 10 ... ms); under concurrent issuances that sleeping dominated the latency tail. Threads of this
        # process queue on a mutex instead. (Other processes still meet busy_timeout; Postgres needs none.)
        self._hot_write_lock: AbstractContextManager[Any] = (
            threading.Lock() if self.engine.dialect.name == "sqlite" else nullcontext()
        )

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # -- candidates and interviews ------------------------------------------------------------------

    def open_interview(
        self,
        *,
        candidate_uid: str,
        name: str | None,
        email: str | None,
        interview_id: str,
        role: str,
        plan: dict[str, Any],
        duration_minutes: int,
        room: str,
        admit: Callable[[Connection], None] | None = None,
    ) -> Interview:
        """Record the candidate and insert a `created` interview in one transaction, with Core statements
        (the api's hot path: one commit, no ORM unit of work). Raises `ActiveInterviewExists` if the
        candidate already has an active interview: the database's partial unique index decides.

        `admit` runs first, in the same transaction, under the database-wide admission lock, and raises to
        refuse: checking the fleet's free slots and taking one is a single step for every api instance."""
        now = utcnow()
        values: dict[str, Any] = {
            "id": interview_id,
            "candidate_uid": candidate_uid,
            "role": role,
            "plan": plan,
            "duration_minutes": duration_minutes,
            "room": room,
            "status": InterviewStatus.created,
            "created_at": now,
        }
        try:
            with self._hot_write_lock, self.engine.begin() as conn:
                if admit is not None:
                    locks.hold_until_commit(conn, locks.ADMISSION)
                    admit(conn)
                conn.execute(
                    self._upsert_candidate,
                    {"uid": candidate_uid, "name": name, "email": email, "created_at": now},
                )
                conn.execute(self._insert_interview, values)
        except IntegrityError:
            active = self.active_interview(candidate_uid)
            if active is None:
                raise
            raise ActiveInterviewExists(active.id) from None
        return Interview(**values)

    def active_interview(self, candidate_uid: str) -> Interview | None:
        with self.session() as s:
            return s.scalars(
                select(Interview).where(
                    Interview.candidate_uid == candidate_uid,
                    Interview.status.in_([InterviewStatus.created, InterviewStatus.live]),
                )
            ).first()

    def get_interview(self, interview_id: str) -> Interview | None:
        with self.session() as s:
            return s.get(Interview, interview_id)

    def interview_in_room(self, room: str) -> Interview | None:
        with self.session() as s:
            return s.scalar(select(Interview).where(Interview.room == room))

    def list_interviews(self, candidate_uid: str, limit: int = 100) -> Sequence[Interview]:
        with self.session() as s:
            return s.scalars(
                select(Interview)
                .where(Interview.candidate_uid == candidate_uid)
                .order_by(Interview.created_at.desc())
                .limit(limit)
            ).all()

    def claim_interview(
        self, interview_id: str, job_id: str, *, lease_seconds: float = UNRENEWED_LEASE_SECONDS
    ) -> bool:
        """Atomically move `created → live` for this job, with its first lease (see fleet.py). False if
        another job had it or it is over."""
        with self.session() as s:
            result = s.execute(
                update(Interview)
                .where(Interview.id == interview_id, Interview.status == InterviewStatus.created)
                .values(status=InterviewStatus.live, agent_job_id=job_id, started_at=utcnow())
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            s.merge(
                InterviewLease(
                    interview_id=interview_id,
                    job_id=job_id,
                    expires_at=utcnow() + timedelta(seconds=lease_seconds),
                    takeovers=0,
                )
            )
            return True

    def end_interview(self, interview_id: str, status: InterviewStatus, reason: str) -> bool:
        """Close an active interview. False if it was already over."""
        with self.session() as s:
            result = s.execute(
                update(Interview)
                .where(
                    Interview.id == interview_id,
                    Interview.status.in_([InterviewStatus.created, InterviewStatus.live]),
                )
                .values(status=status, end_reason=reason[:200], ended_at=utcnow())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- what happens during an interview -----------------------------------------------------------

    def add_turn(
        self,
        interview_id: str,
        speaker: str,
        text_: str,
        *,
        question_id: str | None = None,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
    ) -> Turn:
        """`ended_at` is when it was said (now, unless the write was held up)."""
        with self.session() as s:
            seq = s.scalar(select(func.count()).where(Turn.interview_id == interview_id)) or 0
            turn = Turn(
                interview_id=interview_id,
                seq=seq + 1,
                speaker=speaker,
                text=text_,
                question_id=question_id,
                started_at=started_at,
                ended_at=ended_at or utcnow(),
            )
            s.add(turn)
        return turn

    def turns(self, interview_id: str) -> Sequence[Turn]:
        with self.session() as s:
            return s.scalars(select(Turn).where(Turn.interview_id == interview_id).order_by(Turn.seq)).all()

    def add_tool_event(
        self,
        interview_id: str,
        tool: str,
        arguments: dict[str, Any],
        outcome: str,
        detail: str | None = None,
        *,
        at: datetime | None = None,
    ) -> None:
        """`at` is when the call took effect (now, unless the write was held up)."""
        with self.session() as s:
            s.add(
                ToolEvent(
                    interview_id=interview_id,
                    tool=tool,
                    arguments=arguments,
                    outcome=outcome,
                    detail=detail,
                    at=at or utcnow(),
                )
            )

    def tool_events(self, interview_id: str) -> Sequence[ToolEvent]:
        with self.session() as s:
            return s.scalars(
                select(ToolEvent).where(ToolEvent.interview_id == interview_id).order_by(ToolEvent.id)
            ).all()

    def save_report(
        self,
        interview_id: str,
        *,
        report: dict[str, Any],
        markdown: str,
        html: str,
        scores: Sequence[tuple[str, int, dict[str, Any]]],
        reason: str,
    ) -> None:
        """Store the scorecard and finish the interview in one transaction."""
        with self.session() as s:
            s.merge(Report(interview_id=interview_id, report=report, markdown=markdown, html=html))
            for competency_id, score, evidence in scores:
                s.add(
                    Score(
                        interview_id=interview_id, competency_id=competency_id, score=score, evidence=evidence
                    )
                )
            # An interview the candidate abandoned keeps that status; its report is still stored.
            s.execute(
                update(Interview)
                .where(
                    Interview.id == interview_id,
                    Interview.status.in_([InterviewStatus.created, InterviewStatus.live]),
                )
                .values(status=InterviewStatus.finished, end_reason=reason[:200], ended_at=utcnow())
            )

    def get_report(self, interview_id: str) -> Report | None:
        with self.session() as s:
            return s.get(Report, interview_id)
