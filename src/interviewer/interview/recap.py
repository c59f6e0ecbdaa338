"""A compact recap of an interview so far: what a fresh voice-model session is primed with when the old
one cannot be resumed (the Live API refused its resumption handle).

Pure: it reads the stored turns and the Director, and returns data; `wording.recap_instructions` says it.
The recap is deliberately short (answers cut to a few dozen words) because it rides in the system
instructions of every fresh connection, and the model only needs enough to carry on without repeating
itself: what was asked, roughly what was said, which question is open and what comes next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from interviewer.interview.director import Director
from interviewer.interview.plans import RolePlan
from interviewer.interview.steps import Phase, StepKind

ANSWER_WORDS = 30
QUESTION_WORDS = 30


class StoredLine(Protocol):
    """A stored turn as the recap reads it (the store's `Turn` has these fields)."""

    @property
    def speaker(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def question_id(self) -> str | None: ...


@dataclass(frozen=True)
class Exchange:
    question_id: str
    asked: str  # what the interviewer said when asking (or the plan's wording), shortened
    answer: str  # the candidate's words on it, shortened; empty when they have not answered yet


@dataclass(frozen=True)
class Recap:
    role_title: str
    duration_minutes: int
    minutes_elapsed: int
    minutes_left: int
    phase: Phase
    exchanges: tuple[Exchange, ...]
    open_question_id: str | None  # the question being answered now, if any
    open_question: str | None
    open_kind: StepKind | None
    covered: tuple[str, ...]  # competency names already asked about
    upcoming: tuple[str, ...]  # competency names not asked about yet, in plan order


def shorten(text: str, words: int) -> str:
    parts = " ".join(text.split()).split(" ")
    if len(parts) <= words:
        return " ".join(parts)
    return " ".join(parts[:words]) + " …"


def build_recap(
    plan: RolePlan, director: Director, lines: Sequence[StoredLine], elapsed_seconds: float
) -> Recap:
    planned = {q.id: q.text for q in plan.warmup}
    planned.update({q.id: q.text for c in plan.competencies for q in c.questions})
    asked_lines: dict[str, str] = {}
    answers: dict[str, list[str]] = {}
    for line in lines:
        if line.question_id is None:
            continue  # the greeting and the reply to it answer no question
        if line.speaker == "agent":
            # The first agent line stored under a question is the one that asked it.
            asked_lines.setdefault(line.question_id, line.text)
        elif line.speaker == "candidate":
            answers.setdefault(line.question_id, []).append(line.text)
    exchanges = tuple(
        Exchange(
            question_id=qid,
            asked=shorten(asked_lines.get(qid) or planned.get(qid, ""), QUESTION_WORDS),
            answer=shorten(" ".join(answers.get(qid, [])), ANSWER_WORDS),
        )
        for qid in director.asked_question_ids
    )
    current = director.current
    covered = set(director.covered_competencies())
    return Recap(
        role_title=plan.title,
        duration_minutes=director.duration_minutes,
        minutes_elapsed=int(elapsed_seconds // 60),
        minutes_left=int(director.seconds_left(elapsed_seconds) // 60),
        phase=director.phase,
        exchanges=exchanges,
        open_question_id=current.question_id if current is not None else None,
        open_question=current.text if current is not None else None,
        open_kind=current.kind if current is not None else None,
        covered=tuple(c.name for c in plan.competencies if c.id in covered),
        upcoming=tuple(c.name for c in plan.competencies if c.id not in covered),
    )
