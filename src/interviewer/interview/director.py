"""The Director: the interview's state machine. It decides what comes next; it never writes prose.

Time is passed in explicitly (seconds since the interview started) so the Director stays pure and every
decision is reproducible in a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interviewer.interview import wording
from interviewer.interview.analysis import AnswerAnalysis, FollowUpKind, analyse_answer, follow_up_kind
from interviewer.interview.intents import Intent, QuestionTopic, classify, question_topic
from interviewer.interview.plans import Competency, Question, RolePlan
from interviewer.interview.steps import Answer, CandidateQuestion, Phase, Preface, Step, StepKind

__all__ = ["Answer", "Director", "Phase", "Preface", "Step", "StepKind"]

MAX_FOLLOW_UPS = 2
MAX_MAIN_QUESTIONS_PER_COMPETENCY = 2
# Repeat, clarify, a question, off topic: after this many on one question without an answer, move on.
MAX_DETOURS_PER_QUESTION = 3
MAX_CANDIDATE_QUESTIONS = 3  # answered one by one in the closing phase
SILENCE_PROMPT_SECONDS = 10.0
CANDIDATE_QUESTIONS_ID = "candidate-questions"

_DETOUR_INTENTS = {
    Intent.repeat: StepKind.repeat,
    Intent.clarify: StepKind.clarify,
    Intent.question: StepKind.answer_question,
    Intent.off_topic: StepKind.steer_back,
}


@dataclass
class _Asked:
    step: Step
    main_question_id: str
    asked_at: float
    answered: bool = False
    left: bool = False  # given up on (silence, too many detours): the next step moves on
    detours: int = 0
    nudged: bool = False
    interrupted: bool = False


@dataclass
class Director:
    plan: RolePlan
    duration_minutes: int = 20
    phase: Phase = Phase.greeting
    answers: list[Answer] = field(default_factory=list)
    candidate_questions: list[CandidateQuestion] = field(default_factory=list)
    end_reason: str | None = None
    stop_requested: bool = False
    _asked_ids: list[str] = field(default_factory=list)
    _current: _Asked | None = None
    _follow_ups: dict[str, list[FollowUpKind]] = field(default_factory=dict)
    _competency_index: int = 0
    _competency_started_at: float | None = None
    _main_asked: dict[str, int] = field(default_factory=dict)
    _heard: Answer | None = None  # the last turn, read by the next step
    _leave: Preface | None = None  # why the current question is being left behind
    _declined: set[str] = field(default_factory=set)  # competencies answered with "I don't know"
    _easier_given: set[str] = field(default_factory=set)
    _taken_up: int = 0  # deferred candidate questions already brought back
    _closing_answers: int = 0

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

    @property
    def answer_seconds(self) -> float:
        """How long one answer may run before a polite interruption: most of a competency's slice."""
        return min(240.0, max(60.0, 0.6 * self.competency_seconds))

    def competency_deadline(self) -> float | None:
        """When the current competency's slice runs out (seconds since start)."""
        if self._competency_started_at is None:
            return None
        return self._competency_started_at + self.competency_seconds

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.total_seconds - now)

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

    def deferred_questions(self) -> list[CandidateQuestion]:
        return [q for q in self.candidate_questions if q.deferred]

    # -- transitions ---------------------------------------------------------------------------------

    def request_stop(self, reason: str = "candidate asked to stop") -> None:
        self.stop_requested = True
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
        """Hear the candidate on the question being asked. Raises for any other question id.

        Whatever they said is read for its intent first: only an answer (or an "I don't know") closes the
        question; a request to repeat, a question of theirs or small talk leaves it open.
        """
        asked = self._current
        if asked is None or asked.step.question_id != question_id:
            expected = self.current.question_id if self.current else None
            raise ValueError(f"question {question_id!r} is not the one being asked ({expected!r})")
        heard = classify(text)
        intent = self._in_context(heard.intent, heard.analysis, asked)
        step = asked.step
        overran = intent is Intent.answer and (
            asked.interrupted or now - asked.asked_at > self.answer_seconds
        )
        answer = Answer(
            question_id=question_id,
            main_question_id=asked.main_question_id,
            competency_id=step.competency_id,
            text=text,
            analysis=heard.analysis,
            intent=intent,
            summary=summary,
            model_score=model_score,
            overran=overran and step.kind is not StepKind.candidate_questions,
        )
        self._heard = answer
        if intent is Intent.stop:
            self.request_stop()
        elif intent is Intent.question:
            topic = heard.topic or question_topic(text)
            # Mid-interview, what the plan cannot answer is kept for the end; at the end it is answered.
            deferred = topic is QuestionTopic.other and step.kind is not StepKind.candidate_questions
            self.candidate_questions.append(CandidateQuestion(text, topic, self.phase, deferred))
            asked.detours += 1
        elif intent in _DETOUR_INTENTS:
            asked.detours += 1
        elif step.kind is StepKind.candidate_questions:
            asked.answered = True
        else:
            self.answers.append(answer)
            asked.answered = True
            if intent is Intent.dont_know:
                if step.competency_id is not None:
                    self._declined.add(step.competency_id)
                self._leave = Preface.no_example
            elif answer.overran:
                self._leave = Preface.interrupted
        return answer

    def silence(self, silent_seconds: float, now: float) -> Step | None:
        """The candidate has said nothing for `silent_seconds` since the interviewer last spoke.

        After a question: a gentle prompt first; silence again after the prompt leaves the question (a
        `move_on` step: the voice then asks for the next step). None means keep waiting.
        """
        asked = self._current
        if asked is None or asked.answered or asked.left or silent_seconds < SILENCE_PROMPT_SECONDS:
            return None
        if self.phase in (Phase.closing, Phase.ended):
            return None
        step = asked.step
        if not asked.nudged:
            asked.nudged = True
            asked.asked_at = now
            return Step(
                StepKind.nudge, step.phase, question_id=step.question_id, competency_id=step.competency_id
            )
        asked.left = True
        self._leave = Preface.silence
        return Step(StepKind.move_on, step.phase, question_id=step.question_id, reason="no answer")

    def interrupt(self, now: float) -> Step | None:
        """An answer still running past its time: interrupt politely, once. None: let them go on."""
        asked = self._current
        if asked is None or asked.answered or asked.interrupted:
            return None
        if asked.step.kind not in (StepKind.ask, StepKind.follow_up, StepKind.easier):
            return None
        if now - asked.asked_at <= self.answer_seconds:
            return None
        asked.interrupted = True
        step = asked.step
        return Step(
            StepKind.interrupt, step.phase, question_id=step.question_id, competency_id=step.competency_id
        )

    def next_step(self, now: float) -> Step:
        """Decide and commit to what happens next. Each call advances the interview."""
        heard, self._heard = self._heard, None
        if self.phase is Phase.ended:
            return Step(StepKind.end, Phase.ended, reason=self.end_reason)
        if self.phase is Phase.closing:
            return self._end(self.end_reason or "interview complete")
        if self.stop_requested:
            return self._close(self.end_reason or "candidate asked to stop")
        if now >= self.total_seconds:
            return self._close("time is up")
        if self.phase is Phase.candidate_questions:
            return self._closing_turn(heard)
        if now >= self.total_seconds - self.closing_reserve_seconds:
            return self._candidate_questions("time for the candidate's questions", now)

        for decide in (self._detour, self._easier, self._follow_up):
            step = decide(heard, now)
            if step is not None:
                return step
        if self.phase is Phase.greeting:
            return self._ask(self.plan.warmup[0], None, Phase.warmup, now)
        return self._next_main(now)

    def end(self, reason: str) -> None:
        """End at once (the end_interview tool, a hang-up, a drain)."""
        if self.phase is not Phase.ended:
            self._end(reason)

    # -- internals -----------------------------------------------------------------------------------

    def _in_context(self, intent: Intent, analysis: AnswerAnalysis, asked: _Asked) -> Intent:
        """The same words mean different things when the candidate is invited to ask."""
        if asked.step.kind is StepKind.candidate_questions:
            if intent is Intent.answer and analysis.word_count >= 3:
                return Intent.question  # speech-to-text often drops the question mark
            if intent is Intent.dont_know:
                return Intent.no_questions
            return intent
        if intent is Intent.no_questions:
            return Intent.dont_know  # "No, not really" to a question: no example to give
        return intent

    def _detour(self, heard: Answer | None, now: float) -> Step | None:
        asked = self._current
        if heard is None or asked is None or asked.answered or asked.left:
            return None
        kind = _DETOUR_INTENTS.get(heard.intent)
        if kind is None:
            return None
        if asked.detours > MAX_DETOURS_PER_QUESTION:
            asked.left = True
            self._leave = Preface.detours
            return None
        asked.asked_at = now  # a detour gives the candidate their time back
        step = asked.step
        text: str | None = None
        if kind is StepKind.repeat:
            text = step.text
        elif kind is StepKind.clarify:
            name = self.plan.competency(step.competency_id).name if step.competency_id else None
            text = wording.clarification(step.text or "", name)
        return Step(
            kind,
            step.phase,
            question_id=step.question_id,
            text=text,
            competency_id=step.competency_id,
            candidate_question=self.candidate_questions[-1] if kind is StepKind.answer_question else None,
        )

    def _easier(self, heard: Answer | None, now: float) -> Step | None:
        """After "I don't know" on a competency's first question: one simpler version, once per competency."""
        asked = self._current
        if heard is None or heard.intent is not Intent.dont_know or asked is None:
            return None
        competency_id = asked.step.competency_id
        if (
            asked.step.kind is not StepKind.ask
            or competency_id is None
            or competency_id in self._easier_given
        ):
            return None
        deadline = self.competency_deadline()
        if deadline is not None and deadline - now < self.competency_seconds / 2:
            return None
        self._easier_given.add(competency_id)
        competency = self.plan.competency(competency_id)
        self._leave = None  # not left behind: asked again, more simply
        step = Step(
            StepKind.easier,
            Phase.core,
            question_id=f"{asked.main_question_id}/easier",
            text=competency.easier or wording.easier_variant(competency.name),
            competency_id=competency_id,
        )
        return self._commit(step, asked.main_question_id, now)

    def _follow_up(self, heard: Answer | None, now: float) -> Step | None:
        asked = self._current
        if asked is None or not asked.answered or asked.step.kind not in (StepKind.ask, StepKind.follow_up):
            return None
        if asked.step.competency_id is None:
            return None  # no follow-ups on the warm-up: it only breaks the ice
        if self._leave is not None:
            return None  # "I don't know", or cut short for time: never pressed further
        deadline = self.competency_deadline()
        if deadline is not None and now >= deadline:
            return None
        main_id = asked.main_question_id
        kinds = self._follow_ups.setdefault(main_id, [])
        if len(kinds) >= MAX_FOLLOW_UPS:
            return None
        answer = self.answers[-1]
        if not answer.is_answer or answer.overran:
            return None
        kind = follow_up_kind(answer.analysis, frozenset(kinds))
        if kind is None:
            return None
        kinds.append(kind)
        text = wording.FOLLOW_UP_TEXT.get(kind) or self.plan.competency(asked.step.competency_id).probes[0]
        step = Step(
            StepKind.follow_up,
            Phase.core,
            question_id=f"{main_id}/follow-up-{len(kinds)}",
            text=text,
            competency_id=asked.step.competency_id,
            follow_up_kind=kind,
        )
        return self._commit(step, main_id, now)

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
        return self._candidate_questions("all competencies covered", now)

    def _unasked_question(self, competency: Competency, now: float) -> Question | None:
        asked_here = self._main_asked.get(competency.id, 0)
        if asked_here >= MAX_MAIN_QUESTIONS_PER_COMPETENCY:
            return None
        if asked_here > 0:
            if competency.id in self._declined:
                return None  # "I don't know": acknowledged, and the interview moves on
            # A second main question only when the first left too little to judge, and at least half of
            # the competency's slice is still there for it. A strong answer moves the interview on.
            deadline = self.competency_deadline()
            if deadline is None or deadline - now < self.competency_seconds / 2:
                return None
            said = "\n".join(a.text for a in self.answers if a.competency_id == competency.id and a.is_answer)
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
            preface=self._take_leave(),
            new_competency=competency is not None and self._main_asked[competency.id] == 1,
        )
        return self._commit(step, question.id, now)

    def _candidate_questions(self, reason: str, now: float) -> Step:
        self.phase = Phase.candidate_questions
        self.end_reason = self.end_reason or reason
        step = Step(
            StepKind.candidate_questions,
            Phase.candidate_questions,
            question_id=CANDIDATE_QUESTIONS_ID,
            text=wording.CANDIDATE_QUESTIONS_PROMPT,
            reason=reason,
            preface=self._take_leave(),
            taken_up=self._take_up(),
        )
        return self._commit(step, CANDIDATE_QUESTIONS_ID, now)

    def _closing_turn(self, heard: Answer | None) -> Step:
        """In the closing phase: answer the candidate's questions one by one, then say goodbye."""
        asked = self._current
        wants_answer = heard is not None and heard.intent is Intent.question and self.candidate_questions
        if asked is not None and wants_answer and self._closing_answers < MAX_CANDIDATE_QUESTIONS:
            self._closing_answers += 1
            return Step(
                StepKind.answer_question,
                Phase.candidate_questions,
                question_id=asked.step.question_id,
                candidate_question=self.candidate_questions[-1],
            )
        return self._close(self.end_reason or "all competencies covered")

    def _close(self, reason: str) -> Step:
        self.phase = Phase.closing
        self.end_reason = self.end_reason or reason
        self._current = None
        return Step(
            StepKind.close,
            Phase.closing,
            reason=self.end_reason,
            preface=self._take_leave(),
            taken_up=self._take_up(),
            on_request=self.stop_requested,
        )

    def _end(self, reason: str) -> Step:
        self.phase = Phase.ended
        self.end_reason = self.end_reason or reason
        self._current = None
        return Step(StepKind.end, Phase.ended, reason=self.end_reason)

    def _take_leave(self) -> Preface | None:
        leave, self._leave = self._leave, None
        return leave

    def _take_up(self) -> tuple[CandidateQuestion, ...]:
        """Questions kept for the end that have not been brought back yet."""
        deferred = self.deferred_questions()
        taken, self._taken_up = tuple(deferred[self._taken_up :]), len(deferred)
        return taken

    def _commit(self, step: Step, main_question_id: str, now: float) -> Step:
        assert step.question_id is not None
        if step.question_id in self._asked_ids:
            raise AssertionError(f"question {step.question_id} would be asked twice")
        self._asked_ids.append(step.question_id)
        self._current = _Asked(step=step, main_question_id=main_question_id, asked_at=now)
        return step
