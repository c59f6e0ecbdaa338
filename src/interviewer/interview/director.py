"""The Director: the interview's state machine. It decides what comes next; it never writes prose.

Time is passed in explicitly (seconds since the interview started) so the Director stays pure and every
decision is reproducible in a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from interviewer.interview.analysis import (
    FOLLOW_UP_TEXT,
    AnswerAnalysis,
    FollowUpKind,
    analyse_answer,
    follow_up_kind,
)
from interviewer.interview.plans import Competency, Question, RolePlan

MAX_FOLLOW_UPS = 2
MAX_MAIN_QUESTIONS_PER_COMPETENCY = 2
CANDIDATE_QUESTIONS_ID = "candidate-questions"


class Phase(StrEnum):
    greeting = "greeting"
    warmup = "warmup"
    core = "core"
    candidate_questions = "candidate_questions"
    closing = "closing"
    ended = "ended"


class StepKind(StrEnum):
    ask = "ask"  # a main question (warm-up or core)
    follow_up = "follow_up"
    candidate_questions = "candidate_questions"
    close = "close"  # say goodbye, then end the interview
    end = "end"  # nothing more to say


@dataclass(frozen=True)
class Step:
    kind: StepKind
    phase: Phase
    question_id: str | None = None
    text: str | None = None
    competency_id: str | None = None
    follow_up_kind: FollowUpKind | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Answer:
    question_id: str
    main_question_id: str
    competency_id: str | None
    text: str
    analysis: AnswerAnalysis
    summary: str | None = None
    model_score: int | None = None


@dataclass
class _Asked:
    step: Step
    main_question_id: str
    answered: bool = False


@dataclass
class Director:
    plan: RolePlan
    duration_minutes: int = 20
    phase: Phase = Phase.greeting
    answers: list[Answer] = field(default_factory=list)
    end_reason: str | None = None
    _asked_ids: list[str] = field(default_factory=list)
    _current: _Asked | None = None
    _follow_ups: dict[str, list[FollowUpKind]] = field(default_factory=dict)
    _competency_index: int = 0
    _competency_started_at: float | None = None
    _main_asked: dict[str, int] = field(default_factory=dict)
    _stop_requested: bool = False

    def __post_init__(self) -> None:
        if not 5 <= self.duration_minutes <= 60:
            raise ValueError("duration_minutes must be between 5 and 60")

    # -- time budget -------------------------------------------------------------------------------

    @property
    def total_seconds(self) -> float:
        return self.duration_minutes * 60.0

    @property
    def closing_reserve_seconds(self) -> float:
        """Time kept back for the candidate's questions and a polite goodbye."""
        return max(60.0, 0.1 * self.total_seconds)

    @property
    def warmup_seconds(self) -> float:
        return max(45.0, 0.08 * self.total_seconds)

    @property
    def competency_seconds(self) -> float:
        core = self.total_seconds - self.closing_reserve_seconds - self.warmup_seconds
        return core / len(self.plan.competencies)

    def competency_deadline(self) -> float | None:
        """When the current competency's slice runs out (seconds since start)."""
        if self._competency_started_at is None:
            return None
        return self._competency_started_at + self.competency_seconds

    # -- queries -------------------------------------------------------------------------------------

    @property
    def is_over(self) -> bool:
        return self.phase is Phase.ended

    @property
    def current(self) -> Step | None:
        return None if self._current is None else self._current.step

    @property
    def asked_question_ids(self) -> tuple[str, ...]:
        return tuple(self._asked_ids)

    def main_questions_asked(self, competency_id: str) -> int:
        return self._main_asked.get(competency_id, 0)

    def covered_competencies(self) -> list[str]:
        return [c.id for c in self.plan.competencies if self._main_asked.get(c.id)]

    # -- transitions ---------------------------------------------------------------------------------

    def request_stop(self, reason: str = "candidate asked to stop") -> None:
        self._stop_requested = True
        self.end_reason = self.end_reason or reason

    def record_answer(
        self,
        question_id: str,
        text: str,
        now: float,
        *,
        summary: str | None = None,
        model_score: int | None = None,
    ) -> Answer:
        """Store the candidate's answer to the question being asked. Raises for any other question id."""
        if self._current is None or self._current.step.question_id != question_id:
            expected = self.current.question_id if self.current else None
            raise ValueError(f"question {question_id!r} is not the one being asked ({expected!r})")
        analysis = analyse_answer(text)
        step = self._current.step
        answer = Answer(
            question_id=question_id,
            main_question_id=self._current.main_question_id,
            competency_id=step.competency_id,
            text=text,
            analysis=analysis,
            summary=summary,
            model_score=model_score,
        )
        self.answers.append(answer)
        self._current.answered = True
        if analysis.wants_to_stop:
            self.request_stop()
        return answer

    def next_step(self, now: float) -> Step:
        """Decide and commit to what happens next. Each call advances the interview."""
        if self.phase is Phase.ended:
            return Step(StepKind.end, Phase.ended, reason=self.end_reason)
        if self.phase is Phase.closing:
            return self._end(self.end_reason or "interview complete")
        if self._stop_requested:
            return self._close(self.end_reason or "candidate asked to stop")
        if now >= self.total_seconds:
            return self._close("time is up")
        if self.phase is Phase.candidate_questions:
            return self._close(self.end_reason or "all competencies covered")
        if now >= self.total_seconds - self.closing_reserve_seconds:
            return self._candidate_questions("time for the candidate's questions")

        follow_up = self._follow_up(now)
        if follow_up is not None:
            return follow_up
        if self.phase is Phase.greeting:
            return self._ask(self.plan.warmup[0], None, Phase.warmup, now)
        return self._next_main(now)

    # -- internals -----------------------------------------------------------------------------------

    def _follow_up(self, now: float) -> Step | None:
        asked = self._current
        if asked is None or not asked.answered or asked.step.kind not in (StepKind.ask, StepKind.follow_up):
            return None
        if asked.step.competency_id is None:
            return None  # no follow-ups on the warm-up: it only breaks the ice
        deadline = self.competency_deadline()
        if deadline is not None and now >= deadline:
            return None
        main_id = asked.main_question_id
        kinds = self._follow_ups.setdefault(main_id, [])
        if len(kinds) >= MAX_FOLLOW_UPS:
            return None
        answer = self.answers[-1]
        kind = follow_up_kind(answer.analysis, frozenset(kinds))
        if kind is None:
            return None
        kinds.append(kind)
        text = FOLLOW_UP_TEXT.get(kind) or self.plan.competency(asked.step.competency_id).probes[0]
        step = Step(
            StepKind.follow_up,
            Phase.core,
            question_id=f"{main_id}/follow-up-{len(kinds)}",
            text=text,
            competency_id=asked.step.competency_id,
            follow_up_kind=kind,
        )
        return self._commit(step, main_id)

    def _next_main(self, now: float) -> Step:
        competencies = self.plan.competencies
        while self._competency_index < len(competencies):
            competency = competencies[self._competency_index]
            question = self._unasked_question(competency, now)
            if question is not None:
                if self._competency_started_at is None:
                    self._competency_started_at = now
                return self._ask(question, competency, Phase.core, now)
            self._competency_index += 1
            self._competency_started_at = None
        return self._candidate_questions("all competencies covered")

    def _unasked_question(self, competency: Competency, now: float) -> Question | None:
        asked_here = self._main_asked.get(competency.id, 0)
        if asked_here >= MAX_MAIN_QUESTIONS_PER_COMPETENCY:
            return None
        if asked_here > 0:
            # A second main question only when the first left too little to judge, and at least half of
            # the competency's slice is still there for it. A strong answer moves the interview on.
            deadline = self.competency_deadline()
            if deadline is None or deadline - now < self.competency_seconds / 2:
                return None
            said = "\n".join(a.text for a in self.answers if a.competency_id == competency.id)
            if not analyse_answer(said).is_vague:
                return None
        return next((q for q in competency.questions if q.id not in self._asked_ids), None)

    def _ask(self, question: Question, competency: Competency | None, phase: Phase, now: float) -> Step:
        self.phase = phase
        if competency is not None:
            self._main_asked[competency.id] = self._main_asked.get(competency.id, 0) + 1
        step = Step(
            StepKind.ask,
            phase,
            question_id=question.id,
            text=question.text,
            competency_id=competency.id if competency else None,
        )
        return self._commit(step, question.id)

    def _candidate_questions(self, reason: str) -> Step:
        self.phase = Phase.candidate_questions
        self.end_reason = self.end_reason or reason
        step = Step(
            StepKind.candidate_questions,
            Phase.candidate_questions,
            question_id=CANDIDATE_QUESTIONS_ID,
            text="Do you have any questions for me about the role or the team?",
            reason=reason,
        )
        return self._commit(step, CANDIDATE_QUESTIONS_ID)

    def _close(self, reason: str) -> Step:
        self.phase = Phase.closing
        self.end_reason = self.end_reason or reason
        self._current = None
        return Step(StepKind.close, Phase.closing, reason=self.end_reason)

    def _end(self, reason: str) -> Step:
        self.phase = Phase.ended
        self.end_reason = self.end_reason or reason
        self._current = None
        return Step(StepKind.end, Phase.ended, reason=self.end_reason)

    def end(self, reason: str) -> None:
        """End at once (the end_interview tool, a hang-up, a drain)."""
        if self.phase is not Phase.ended:
            self._end(reason)

    def _commit(self, step: Step, main_question_id: str) -> Step:
        assert step.question_id is not None
        if step.question_id in self._asked_ids:
            raise AssertionError(f"question {step.question_id} would be asked twice")
        self._asked_ids.append(step.question_id)
        self._current = _Asked(step=step, main_question_id=main_question_id)
        return step
