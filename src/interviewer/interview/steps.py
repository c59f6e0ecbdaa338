"""The Director's vocabulary: phases, the kinds of step it takes, and why it leaves a question behind."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from interviewer.interview.analysis import AnswerAnalysis, FollowUpKind
from interviewer.interview.intents import Intent, QuestionTopic


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
    easier = "easier"  # after "I don't know": a simpler version, at most once per competency
    # Detours: the question being asked stays open, nothing new is asked.
    repeat = "repeat"  # the candidate asked to hear it again
    clarify = "clarify"  # the candidate asked what it means
    answer_question = "answer_question"  # the candidate asked the interviewer something
    steer_back = "steer_back"  # off topic
    nudge = "nudge"  # silence after a question
    interrupt = "interrupt"  # an answer running past its time
    move_on = "move_on"  # silence again after the nudge: the voice asks for the next step now
    candidate_questions = "candidate_questions"
    close = "close"  # say goodbye, then end the interview
    end = "end"  # nothing more to say


DETOURS = frozenset(
    {StepKind.repeat, StepKind.clarify, StepKind.answer_question, StepKind.steer_back, StepKind.nudge}
)


class Preface(StrEnum):
    """Why the previous question was left behind; the voice says so before the next one."""

    no_example = "no_example"  # "I don't know" / skip
    interrupted = "interrupted"  # the answer ran past its time
    silence = "silence"  # no answer after a gentle prompt
    detours = "detours"  # several detours on one question without an answer


@dataclass(frozen=True)
class CandidateQuestion:
    text: str
    topic: QuestionTopic
    asked_during: Phase
    deferred: bool  # kept for the end ("good question, let's keep it for the end")


@dataclass(frozen=True)
class Step:
    kind: StepKind
    phase: Phase
    question_id: str | None = None
    text: str | None = None  # the question as planned (or the clarification, for clarify)
    competency_id: str | None = None
    follow_up_kind: FollowUpKind | None = None
    reason: str | None = None
    preface: Preface | None = None
    candidate_question: CandidateQuestion | None = None
    taken_up: tuple[CandidateQuestion, ...] = ()  # deferred questions answered at this step
    new_competency: bool = False
    on_request: bool = False  # close: the candidate asked to stop


@dataclass(frozen=True)
class Answer:
    """One candidate turn on a question: an answer, or "I don't know" (never scored as an answer)."""

    question_id: str
    main_question_id: str
    competency_id: str | None
    text: str
    analysis: AnswerAnalysis
    intent: Intent = Intent.answer
    summary: str | None = None
    model_score: int | None = None
    overran: bool = False  # ran past the question's time

    @property
    def is_answer(self) -> bool:
        return self.intent is Intent.answer
