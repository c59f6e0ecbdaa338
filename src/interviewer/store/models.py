"""Tables. Every candidate utterance is a `Turn` row written the moment it is final."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class InterviewStatus(enum.StrEnum):
    created = "created"  # token issued, nobody joined yet
    live = "live"  # the agent is running it
    finished = "finished"  # report stored
    abandoned = "abandoned"  # the candidate ended it, or it never started

    @property
    def is_active(self) -> bool:
        return self in (InterviewStatus.created, InterviewStatus.live)


class Candidate(Base):
    __tablename__ = "candidates"

    uid: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Interview(Base):
    __tablename__ = "interviews"
    __table_args__ = (
        # At most one active interview per candidate, enforced by the database itself so two racing
        # requests cannot both win.
        Index(
            "uq_interviews_one_active",
            "candidate_uid",
            unique=True,
            sqlite_where=text("status IN ('created', 'live')"),
            postgresql_where=text("status IN ('created', 'live')"),
        ),
        Index("ix_interviews_candidate_created", "candidate_uid", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    candidate_uid: Mapped[str] = mapped_column(ForeignKey("candidates.uid"))
    role: Mapped[str] = mapped_column(String(100))
    plan: Mapped[dict[str, Any]] = mapped_column()
    duration_minutes: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[InterviewStatus] = mapped_column(Enum(InterviewStatus, native_enum=False, length=16))
    end_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    # The agent's claim on the interview: a second job for the same room sees it and leaves.
    agent_job_id: Mapped[str | None] = mapped_column(String(128))

    turns: Mapped[list[Turn]] = relationship(back_populates="interview", order_by="Turn.seq")


class Turn(Base):
    __tablename__ = "turns"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(16))  # "agent" | "candidate"
    text: Mapped[str] = mapped_column(Text)
    question_id: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime] = mapped_column(default=utcnow)

    interview: Mapped[Interview] = relationship(back_populates="turns")


class ToolEvent(Base):
    __tablename__ = "tool_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id"), index=True)
    tool: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(16))  # "ok" | "refused" | "error"
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Score(Base):
    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id"), index=True)
    competency_id: Mapped[str] = mapped_column(String(100))
    score: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[dict[str, Any]] = mapped_column()


class Report(Base):
    __tablename__ = "reports"

    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id"), primary_key=True)
    report: Mapped[dict[str, Any]] = mapped_column()
    markdown: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InterviewLease(Base):
    """Which job runs a live interview, for how much longer unless it renews. A job that dies stops
    renewing; once the lease has expired, another job may take the interview over (atomically: the
    expiry is part of the UPDATE's condition)."""

    __tablename__ = "interview_leases"

    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id"), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    takeovers: Mapped[int] = mapped_column(Integer, default=0)


class WorkerBeat(Base):
    """A worker's last heartbeat: its capacity and whether it takes new interviews. The api admits a
    candidate only while some fresh worker has room."""

    __tablename__ = "worker_beats"

    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    active: Mapped[int] = mapped_column(Integer)
    load: Mapped[float] = mapped_column()
    accepting: Mapped[bool] = mapped_column()
    renewed_at: Mapped[datetime] = mapped_column(default=utcnow)
