"""The contract between the Director and whatever speaks for it (the offline voice, a realtime model).

`next_question` returns a `VoiceStep` as JSON; the offline interviewer reads it back with
`VoiceStep.model_validate_json`, a realtime model reads the same fields. `say` is the complete line to speak
after the acknowledgement, composed by the wording module.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from interviewer.interview import wording
from interviewer.interview.analysis import FollowUpKind
from interviewer.interview.plans import RolePlan
from interviewer.interview.steps import Phase, Step, StepKind


class VoiceStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: StepKind
    phase: Phase
    seconds_left: int
    say: str  # the line to speak; a model may put it in its own words but adds no facts
    instructions: str
    question_id: str | None = None  # pass it to record_answer with what the candidate says next
    text: str | None = None  # the question as planned
    competency: str | None = None
    new_competency: bool = False
    follow_up: FollowUpKind | None = None
    candidate_question: str | None = None  # the candidate's own question this step answers
    reason: str | None = None

    @property
    def closes(self) -> bool:
        return self.kind in (StepKind.close, StepKind.end)


def render(step: Step, plan: RolePlan, *, duration_minutes: int, seconds_left: float) -> VoiceStep:
    competency = plan.competency(step.competency_id).name if step.competency_id else None
    return VoiceStep(
        kind=step.kind,
        phase=step.phase,
        seconds_left=round(seconds_left),
        say=_say(step, plan, competency, duration_minutes, seconds_left),
        instructions=wording.STEP_INSTRUCTIONS[step.kind.value],
        question_id=step.question_id,
        text=step.text,
        competency=competency,
        new_competency=step.new_competency,
        follow_up=step.follow_up_kind,
        candidate_question=step.candidate_question.text if step.candidate_question else None,
        reason=step.reason,
    )


def _say(
    step: Step, plan: RolePlan, competency: str | None, duration_minutes: int, seconds_left: float
) -> str:
    text = step.text or ""
    preface = wording.PREFACE_LINES[step.preface] + " " if step.preface else ""
    kind = step.kind
    if kind is StepKind.ask:
        if step.phase is Phase.warmup:
            return wording.warmup_line(text)
        if step.new_competency and competency:
            return preface + wording.new_competency_line(competency, text)
        return preface + wording.another_question_line(text)
    if kind is StepKind.repeat:
        return wording.repeat_line(text)
    if kind is StepKind.answer_question and step.candidate_question is not None:
        asked = step.candidate_question
        answer = wording.answer_to_question(
            asked.topic,
            role_title=plan.title,
            role_summary=plan.summary,
            duration_minutes=duration_minutes,
            competency_names=[c.name for c in plan.competencies],
            minutes_left=round(seconds_left / 60),
            deferred=asked.deferred,
        )
        if step.phase is Phase.candidate_questions:
            return f"{answer} {wording.MORE_QUESTIONS_PROMPT}"
        return f"{answer} {wording.back_to_question_line()}"
    if kind is StepKind.steer_back:
        return wording.steer_back_line()
    if kind is StepKind.nudge:
        return wording.nudge_line()
    if kind is StepKind.interrupt:
        return wording.interruption_line()
    if kind is StepKind.candidate_questions:
        taken_up = [q.text for q in step.taken_up]
        return preface + wording.candidate_questions_line(text, taken_up, first=True)
    if kind is StepKind.close:
        return wording.goodbye(on_request=step.on_request, noted_questions=[q.text for q in step.taken_up])
    if kind in (StepKind.move_on, StepKind.end):
        return ""
    return text  # follow_up, easier, clarify: the text is the line
