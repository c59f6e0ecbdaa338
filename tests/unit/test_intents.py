"""The candidate's intents, read from their words, and what the Director does with each."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interviewer.interview.director import (
    MAX_DETOURS_PER_QUESTION,
    SILENCE_PROMPT_SECONDS,
    Director,
    Phase,
    Preface,
    StepKind,
)
from interviewer.interview.intents import Intent, QuestionTopic, classify
from interviewer.interview.plans import list_roles, load_role

COMPLETE = (
    "At my last company I designed the ingestion service. I built a partitioned pipeline and as a result "
    "latency dropped from 900 ms to 120 ms for 2 million events a day."
)

SAID = {
    Intent.repeat: ["Sorry, could you repeat the question?", "Could you say that again?", "Sorry?"],
    Intent.clarify: ["What do you mean by that?", "Does it have to be from work?", "Could you rephrase it?"],
    Intent.dont_know: ["I don't know.", "Honestly, no idea.", "I can't think of an example.", "Pass."],
    Intent.question: ["Can I ask what the team size is?", "How much time do we have left?"],
    Intent.stop: [
        "I'm sorry, something came up and I have to leave now. Goodbye.",
        "Thanks again, goodbye!",
        "Can we stop the interview here?",
        "I need to go now, sorry.",
    ],
    Intent.off_topic: ["Did you watch the football last night?", "Nice weather today, isn't it."],
    Intent.answer: [
        COMPLETE,
        "We built a system for handling traffic.",
        "I don't know if it was the best design, but I built a queue and as a result we cut errors by half.",
        "I had to go through the logs first, then I found the bug and fixed it.",
    ],
}


@pytest.mark.parametrize(("intent", "text"), [(i, t) for i, texts in SAID.items() for t in texts])
def test_intent_is_read_from_the_words(intent: Intent, text: str) -> None:
    assert classify(text).intent is intent


def test_question_topics_come_from_what_the_plan_knows() -> None:
    assert classify("How much time do we have left?").topic is QuestionTopic.time_left
    assert classify("What's the format of this interview?").topic is QuestionTopic.interview_format
    assert classify("When will I hear back?").topic is QuestionTopic.next_steps
    assert classify("Can I ask what the team size is?").topic is QuestionTopic.other


def _core(director: Director) -> tuple[str, float]:
    """Past the warm-up: the first core question is being asked."""
    warmup = director.next_step(0)
    director.record_answer(warmup.question_id or "", COMPLETE, 5)
    step = director.next_step(10)
    assert step.kind is StepKind.ask and step.competency_id is not None
    return step.question_id or "", 10.0


def test_repeat_says_the_same_question_again_without_asking_anything_new() -> None:
    director = Director(load_role("backend-engineer"), 20)
    question_id, now = _core(director)
    text = director.current.text if director.current else None
    director.record_answer(question_id, "Sorry, could you repeat the question?", now + 2)
    step = director.next_step(now + 3)
    assert step.kind is StepKind.repeat and step.question_id == question_id and step.text == text
    assert director.asked_question_ids.count(question_id) == 1
    director.record_answer(question_id, COMPLETE, now + 30)
    assert director.answers[-1].text == COMPLETE, "the request to repeat is not an answer"


def test_clarify_explains_the_question() -> None:
    director = Director(load_role("backend-engineer"), 20)
    question_id, now = _core(director)
    director.record_answer(question_id, "What do you mean by that?", now + 2)
    step = director.next_step(now + 3)
    assert step.kind is StepKind.clarify and step.question_id == question_id
    assert step.text and "one real situation" in step.text


def test_dont_know_gets_one_easier_variant_then_moves_on_without_a_follow_up() -> None:
    director = Director(load_role("backend-engineer"), 20)
    question_id, now = _core(director)
    competency = director.current.competency_id if director.current else None
    director.record_answer(question_id, "I don't know.", now + 2)
    easier = director.next_step(now + 3)
    assert easier.kind is StepKind.easier and easier.competency_id == competency
    director.record_answer(easier.question_id or "", "Sorry, I really don't know.", now + 6)
    step = director.next_step(now + 7)
    assert step.kind is StepKind.ask and step.preface is Preface.no_example
    assert step.competency_id != competency, "'I don't know' moves on to the next competency"
    assert not any(q.endswith("follow-up-1") for q in director.asked_question_ids)
    assert [a.intent for a in director.answers[-2:]] == [Intent.dont_know, Intent.dont_know]


def test_a_question_the_plan_can_answer_is_answered_and_the_question_stays_open() -> None:
    director = Director(load_role("backend-engineer"), 20)
    question_id, now = _core(director)
    director.record_answer(question_id, "How much time do we have left?", now + 2)
    step = director.next_step(now + 3)
    assert step.kind is StepKind.answer_question and step.question_id == question_id
    assert step.candidate_question is not None and not step.candidate_question.deferred


def test_a_question_the_plan_cannot_answer_is_kept_for_the_end_and_taken_up_there() -> None:
    director = Director(load_role("backend-engineer"), 20)
    question_id, now = _core(director)
    director.record_answer(question_id, "Can I ask what the team size is?", now + 2)
    step = director.next_step(now + 3)
    assert step.candidate_question is not None and step.candidate_question.deferred
    taken_up = []
    while not director.is_over:
        step = director.next_step(now)
        taken_up += [q.text for q in step.taken_up]
        if step.kind is StepKind.candidate_questions:
            break
        if step.question_id:
            director.record_answer(step.question_id, COMPLETE, now)
        now += 60
    assert step.kind is StepKind.candidate_questions
    assert taken_up == ["Can I ask what the team size is?"]


@pytest.mark.parametrize("text", SAID[Intent.stop])
def test_goodbye_in_any_phrasing_closes_politely(text: str) -> None:
    director = Director(load_role("backend-engineer"), 20)
    question_id, now = _core(director)
    director.record_answer(question_id, text, now + 2)
    step = director.next_step(now + 3)
    assert step.kind is StepKind.close and step.on_request
    assert director.next_step(now + 4).kind is StepKind.end


def test_silence_prompts_gently_after_ten_seconds_then_moves_on() -> None:
    director = Director(load_role("backend-engineer"), 20)
    question_id, now = _core(director)
    assert director.silence(SILENCE_PROMPT_SECONDS - 1, now + 9) is None
    nudge = director.silence(SILENCE_PROMPT_SECONDS, now + 10)
    assert nudge is not None and nudge.kind is StepKind.nudge and nudge.question_id == question_id
    assert director.silence(SILENCE_PROMPT_SECONDS - 1, now + 19) is None
    move_on = director.silence(SILENCE_PROMPT_SECONDS, now + 20)
    assert move_on is not None and move_on.kind is StepKind.move_on
    step = director.next_step(now + 21)
    assert step.kind is StepKind.ask and step.question_id != question_id
    assert step.preface is Preface.silence


def test_an_answer_past_its_time_is_interrupted_once_and_not_followed_up() -> None:
    director = Director(load_role("backend-engineer"), 20)
    question_id, now = _core(director)
    assert director.interrupt(now + director.answer_seconds - 1) is None
    step = director.interrupt(now + director.answer_seconds + 1)
    assert step is not None and step.kind is StepKind.interrupt
    assert director.interrupt(now + director.answer_seconds + 2) is None, "interrupt once"
    director.record_answer(question_id, "We did some stuff.", now + director.answer_seconds + 5)
    after = director.next_step(now + director.answer_seconds + 6)
    assert after.kind is StepKind.ask and after.preface is Preface.interrupted


def test_off_topic_is_steered_back() -> None:
    director = Director(load_role("backend-engineer"), 20)
    question_id, now = _core(director)
    director.record_answer(question_id, "Did you watch the football last night?", now + 2)
    step = director.next_step(now + 3)
    assert step.kind is StepKind.steer_back and step.question_id == question_id


def test_endless_detours_on_one_question_move_on() -> None:
    director = Director(load_role("backend-engineer"), 20)
    question_id, now = _core(director)
    kinds = []
    for turn in range(MAX_DETOURS_PER_QUESTION + 1):
        director.record_answer(question_id, "Sorry, could you repeat the question?", now + turn)
        kinds.append(director.next_step(now + turn).kind)
    assert kinds[:-1] == [StepKind.repeat] * MAX_DETOURS_PER_QUESTION
    assert kinds[-1] is StepKind.ask


def test_candidate_questions_at_the_end_are_answered_then_goodbye() -> None:
    director = Director(load_role("backend-engineer"), 5)
    director.next_step(0)
    step = director.next_step(5 * 60 - 30)
    assert step.kind is StepKind.candidate_questions
    director.record_answer(step.question_id or "", "When will I hear back?", 5 * 60 - 25)
    answer = director.next_step(5 * 60 - 24)
    assert answer.kind is StepKind.answer_question and answer.phase is Phase.candidate_questions
    director.record_answer(step.question_id or "", "No, that's all, thank you.", 5 * 60 - 20)
    assert director.next_step(5 * 60 - 19).kind is StepKind.close


# -- property: any sequence of intents and answers ---------------------------------------------------

TURNS = st.sampled_from(
    [text for texts in SAID.values() for text in texts] + ["It went fine.", "", "(silence)", "(long)"]
)
REASK = (Intent.repeat, Intent.clarify)


@settings(max_examples=200, deadline=None)
@given(
    role=st.sampled_from([p.id for p in list_roles()]),
    minutes=st.integers(min_value=5, max_value=60),
    turns=st.lists(TURNS, min_size=1, max_size=40),
    gaps=st.lists(st.floats(min_value=0, max_value=300), min_size=1, max_size=20),
)
def test_any_sequence_of_intents_ends_never_reasks_unbidden_never_presses_on_dont_know(
    role: str, minutes: int, turns: list[str], gaps: list[float]
) -> None:
    director = Director(load_role(role), minutes)
    now, last_intent = 0.0, None
    presented: set[str] = set()
    for turn in range(400):
        step = director.next_step(now)
        if step.kind is StepKind.end:
            break
        if step.kind in (StepKind.repeat, StepKind.clarify):
            assert last_intent in REASK, f"{step.kind} without being asked, after {last_intent}"
        elif step.question_id and step.kind not in (StepKind.answer_question, StepKind.steer_back):
            assert step.question_id not in presented, f"{step.question_id} asked again unbidden"
            presented.add(step.question_id)
        if step.kind is StepKind.follow_up:
            assert last_intent is Intent.answer, f"a follow-up after {last_intent}"
        said = turns[turn % len(turns)]
        now += gaps[turn % len(gaps)]
        last_intent = None
        if step.question_id is None:
            continue
        if said == "(silence)":
            decision = director.silence(SILENCE_PROMPT_SECONDS, now)
            if decision is not None and decision.kind is StepKind.nudge:
                decision = director.silence(SILENCE_PROMPT_SECONDS, now + SILENCE_PROMPT_SECONDS)
            continue
        if said == "(long)":
            director.interrupt(now + director.answer_seconds + 1)
            said = COMPLETE
        last_intent = director.record_answer(step.question_id, said, now).intent
    else:
        raise AssertionError("the interview never ended")
    assert director.phase is Phase.ended
    asked = director.asked_question_ids
    assert len(asked) == len(set(asked))
    easier = [q for q in asked if q.endswith("/easier")]
    competencies = [director.plan.question(q.split("/")[0])[0] for q in easier]
    assert len(competencies) == len({c.id for c in competencies if c}), "an easier variant twice"
