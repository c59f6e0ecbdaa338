"""The initial schema: every table of store/models.py as it was when migrations began.

Databases made before migrations (by `create_all` at start-up) already hold some or all of these tables:
each table is created only when it is missing, so such a database is adopted as it is and stamped.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('created', 'live')"


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if _missing("candidates"):
        op.create_table(
            "candidates",
            sa.Column("uid", sa.String(length=128), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=True),
            sa.Column("email", sa.String(length=320), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("uid"),
        )
    if _missing("worker_beats"):
        op.create_table(
            "worker_beats",
            sa.Column("worker_id", sa.String(length=128), nullable=False),
            sa.Column("capacity", sa.Integer(), nullable=False),
            sa.Column("active", sa.Integer(), nullable=False),
            sa.Column("load", sa.Double(), nullable=False),
            sa.Column("accepting", sa.Boolean(), nullable=False),
            sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("worker_id"),
        )
    if _missing("interviews"):
        op.create_table(
            "interviews",
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("candidate_uid", sa.String(length=128), nullable=False),
            sa.Column("role", sa.String(length=100), nullable=False),
            sa.Column("plan", sa.JSON(), nullable=False),
            sa.Column("duration_minutes", sa.Integer(), nullable=False),
            sa.Column("room", sa.String(length=128), nullable=False),
            sa.Column(
                "status",
                sa.Enum(
                    "created",
                    "live",
                    "finished",
                    "abandoned",
                    name="interviewstatus",
                    native_enum=False,
                    length=16,
                ),
                nullable=False,
            ),
            sa.Column("end_reason", sa.String(length=200), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("agent_job_id", sa.String(length=128), nullable=True),
            sa.ForeignKeyConstraint(["candidate_uid"], ["candidates.uid"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("room"),
        )
        op.create_index("ix_interviews_candidate_created", "interviews", ["candidate_uid", "created_at"])
        # At most one active interview per candidate, decided by the database (see models.Interview).
        op.create_index(
            "uq_interviews_one_active",
            "interviews",
            ["candidate_uid"],
            unique=True,
            sqlite_where=sa.text(ACTIVE),
            postgresql_where=sa.text(ACTIVE),
        )
    if _missing("interview_leases"):
        op.create_table(
            "interview_leases",
            sa.Column("interview_id", sa.String(length=64), nullable=False),
            sa.Column("job_id", sa.String(length=128), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("takeovers", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["interview_id"], ["interviews.id"]),
            sa.PrimaryKeyConstraint("interview_id"),
        )
        op.create_index("ix_interview_leases_expires_at", "interview_leases", ["expires_at"])
    if _missing("reports"):
        op.create_table(
            "reports",
            sa.Column("interview_id", sa.String(length=64), nullable=False),
            sa.Column("report", sa.JSON(), nullable=False),
            sa.Column("markdown", sa.Text(), nullable=False),
            sa.Column("html", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["interview_id"], ["interviews.id"]),
            sa.PrimaryKeyConstraint("interview_id"),
        )
    if _missing("scores"):
        op.create_table(
            "scores",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("interview_id", sa.String(length=64), nullable=False),
            sa.Column("competency_id", sa.String(length=100), nullable=False),
            sa.Column("score", sa.Integer(), nullable=False),
            sa.Column("evidence", sa.JSON(), nullable=False),
            sa.ForeignKeyConstraint(["interview_id"], ["interviews.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_scores_interview_id", "scores", ["interview_id"])
    if _missing("tool_events"):
        op.create_table(
            "tool_events",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("interview_id", sa.String(length=64), nullable=False),
            sa.Column("tool", sa.String(length=64), nullable=False),
            sa.Column("arguments", sa.JSON(), nullable=False),
            sa.Column("outcome", sa.String(length=16), nullable=False),
            sa.Column("detail", sa.Text(), nullable=True),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["interview_id"], ["interviews.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_tool_events_interview_id", "tool_events", ["interview_id"])
    if _missing("turns"):
        op.create_table(
            "turns",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("interview_id", sa.String(length=64), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("speaker", sa.String(length=16), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("question_id", sa.String(length=100), nullable=True),
            sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["interview_id"], ["interviews.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_turns_interview_id", "turns", ["interview_id"])


def downgrade() -> None:
    for table in ("turns", "tool_events", "scores", "reports", "interview_leases", "interviews"):
        op.drop_table(table)
    op.drop_table("worker_beats")
    op.drop_table("candidates")
