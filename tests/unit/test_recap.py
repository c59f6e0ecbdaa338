"""The recap a fresh Gemini session is primed with: built from stored turns and a real Director, said in
the interviewer's wording."""

from __future__ import annotations

from dataclasses import dataclass

from interviewer.interview import wording
from interviewer.interview.director import Director
from interviewer.interview.plans import load_role
from interviewer.interview.recap import ANSWER_WORDS, build_recap, shorten
from interviewer.interview.steps import Phase, StepKind


@dataclass(frozen=True)
class Line:
    speaker: str
    text: str
    question_id: str | None


LONG_ANSWER = " ".join(f"word{n}" for n in range(80))


def _interview_at_second_question() -> tuple[Director, list[Line], float]:
    plan = load_role("backend-engineer")
    director = Director(plan, 45)
    lines = [Line("agent", "Hello, I'm Alex.", None), Line("candidate", "Hi there.", None)]
    warmup = director.next_step(30.0)
    lines.append(Line("agent", f"Great, let's begin. {warmup.text}", warmup.question_id))
    lines.append(Line("candidate", LONG_ANSWER, warmup.question_id))
    assert warmup.question_id is not None
    director.record_answer(warmup.question_id, LONG_ANSWER, 240.0)
    core = director.next_step(250.0)
    lines.append(Line("agent", f"Let's talk about system design. {core.text}", core.question_id))
    return director, lines, 400.0


def test_the_recap_lists_what_was_asked_and_answered_and_what_is_open() -> None:
    director, lines, now = _interview_at_second_question()
    recap = build_recap(director.plan, director, lines, now)
    warmup_id, core_id = director.asked_question_ids
    assert [e.question_id for e in recap.exchanges] == [warmup_id, core_id]
    assert recap.exchanges[0].asked.startswith("Great, let's begin.")
    # Answers are cut short: the recap rides in every fresh session's instructions.
    assert recap.exchanges[0].answer == shorten(LONG_ANSWER, ANSWER_WORDS)
    assert len(recap.exchanges[0].answer.split()) == ANSWER_WORDS + 1  # the words and the ellipsis
    assert recap.exchanges[1].answer == ""
    assert (recap.open_question_id, recap.open_kind) == (core_id, StepKind.ask)
    assert recap.phase is Phase.core
    assert (recap.minutes_elapsed, recap.minutes_left) == (6, 38)
    plan = director.plan
    assert recap.covered == (plan.competencies[0].name,)
    assert recap.upcoming == tuple(c.name for c in plan.competencies[1:])


def test_the_recap_is_said_as_instructions_that_forbid_starting_over() -> None:
    director, lines, now = _interview_at_second_question()
    text = wording.recap_instructions(build_recap(director.plan, director, lines, now))
    warmup_id, core_id = director.asked_question_ids
    assert "Do not greet the candidate again" in text
    assert f"question_id {core_id!r}" in text and "record_answer" in text
    assert f"- {warmup_id}: Great, let's begin." in text
    assert LONG_ANSWER not in text and "word29 …" in text
    assert "about 6 of 45 minutes" in text
    assert director.plan.competencies[-1].name in text  # what comes next


def test_before_any_question_the_recap_says_nothing_is_open() -> None:
    plan = load_role("backend-engineer")
    director = Director(plan, 20)
    lines = [Line("agent", "Hello.", None), Line("candidate", "Hi.", None)]
    recap = build_recap(plan, director, lines, 20.0)
    assert recap.exchanges == () and recap.open_question_id is None
    assert "Nothing is open" in wording.recap_instructions(recap)
