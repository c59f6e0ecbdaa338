"""Persistence: SQLAlchemy 2, SQLite (WAL) by default, Postgres by URL."""

from interviewer.store.models import (
    Candidate,
    Interview,
    InterviewStatus,
    Report,
    Score,
    ToolEvent,
    Turn,
)
from interviewer.store.repository import ActiveInterviewExists, Store

__all__ = [
    "ActiveInterviewExists",
    "Candidate",
    "Interview",
    "InterviewStatus",
    "Report",
    "Score",
    "Store",
    "ToolEvent",
    "Turn",
]
