import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interviewer.interview.director import MAX_FOLLOW_UPS, Director, Phase, StepKind
from interviewer.interview.plans import list_roles, load_role

COMPLETE = (
    "At my last company I designed the ingestion service. I built a partitioned pipeline and as a result "
    "latency dropped from 900 ms to 120 ms for 2 million events a day."
)
VAGUE = "It went fine."


def run(director: Director, answers: list[str], seconds_per_turn: float) -> list[str]:
    now, kinds = 0.0, []
    for turn in range(200):
        step = director.next_step(now)
        kinds.append(step.kind.value)
        if step.kind is StepKind.end:
            return kinds
        if step.kind is not StepKind.close:
            director.record_answer(step.question_id or "", answers[turn % len(answers)], now)
        now += seconds_per_turn
    raise AssertionError("the interview never ended")


def test_phases_run_in_order() -> None:
    director = Director(load_role("backend-engineer"), 20)
    seen: list[Phase] = []
    now = 0.0
    while not director.is_over:
        step = director.next_step(now)
        if not seen or seen[-1] is not step.phase:
            seen.append(step.phase)
        if step.question_id:
            director.record_answer(step.question_id, COMPLETE, now)
        now += 30
    assert seen == [Phase.warmup, Phase.core, Phase.candidate_questions, Phase.closing, Phase.ended]


def test_complete_answers_get_no_follow_up() -> None:
    kinds = run(Director(load_role("product-manager"), 20), [COMPLETE], 30)
    assert "follow_up" not in kinds


def test_vague_answers_get_follow_ups_but_at_most_two() -> None:
    director = Director(load_role("backend-engineer"), 30)
    run(director, [VAGUE], 20)
    follow_ups: dict[str, int] = {}
    for question_id in director.asked_question_ids:
        if "/follow-up-" in question_id:
            main = question_id.split("/")[0]
            follow_ups[main] = follow_ups.get(main, 0) + 1
    assert follow_ups, "a vague answer must be followed up"
    assert max(follow_ups.values()) <= MAX_FOLLOW_UPS


def test_time_out_closes_the_interview() -> None:
    director = Director(load_role("data-scientist"), 5)
    director.next_step(0)
    step = director.next_step(5 * 60 + 1)
    assert step.kind is StepKind.close and director.end_reason == "time is up"
    assert director.next_step(5 * 60 + 2).kind is StepKind.end


def test_candidate_asking_to_stop_closes() -> None:
    director = Director(load_role("data-scientist"), 20)
    step = director.next_step(0)
    director.record_answer(step.question_id or "", "I'm sorry, I want to stop the interview now.", 10)
    assert director.next_step(11).kind is StepKind.close
    assert director.end_reason == "candidate asked to stop"


def test_answer_to_another_question_is_rejected() -> None:
    director = Director(load_role("data-scientist"), 20)
    director.next_step(0)
    with pytest.raises(ValueError, match="not the one being asked"):
        director.record_answer("statistics-1", COMPLETE, 1)


def test_duration_is_bounded() -> None:
    with pytest.raises(ValueError):
        Director(load_role("data-scientist"), 4)
    with pytest.raises(ValueError):
        Director(load_role("data-scientist"), 61)


ANSWERS = st.sampled_from(
    [
        COMPLETE,
        VAGUE,
        "We did it together as a team and we shipped it.",
        "Maybe I think it sort of worked out in the end, probably.",
        "I would like to stop the interview.",
        "",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    role=st.sampled_from([p.id for p in list_roles()]),
    minutes=st.integers(min_value=5, max_value=60),
    answers=st.lists(ANSWERS, min_size=1, max_size=30),
    gaps=st.lists(st.floats(min_value=0, max_value=400), min_size=1, max_size=30),
    skip_records=st.lists(st.booleans(), min_size=1, max_size=30),
)
def test_always_ends_never_repeats(
    role: str, minutes: int, answers: list[str], gaps: list[float], skip_records: list[bool]
) -> None:
    director = Director(load_role(role), minutes)
    now = 0.0
    for turn in range(300):
        step = director.next_step(now)
        if step.kind is StepKind.end:
            break
        if step.question_id and not skip_records[turn % len(skip_records)]:
            director.record_answer(step.question_id, answers[turn % len(answers)], now)
        now += gaps[turn % len(gaps)]
    else:
        raise AssertionError("did not reach ended")
    assert director.phase is Phase.ended
    asked = director.asked_question_ids
    assert len(asked) == len(set(asked)), "a question was asked twice"
    per_main: dict[str, int] = {}
    for question_id in asked:
        if "/follow-up-" in question_id:
            main = question_id.split("/")[0]
            per_main[main] = per_main.get(main, 0) + 1
    assert all(count <= MAX_FOLLOW_UPS for count in per_main.values())
