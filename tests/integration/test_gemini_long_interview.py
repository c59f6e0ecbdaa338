"""A 45-minute interview on Gemini, in simulated time, survives five reconnects and ends with its report.

The Gemini engine against FakeGeminiLive (a named fake of the Live API wire protocol over TLS; Gemini cannot
be reached from here), in a real text-mode AgentSession with the real Agent, tools, guard, Director and
store. Time is simulated, not slept: the Director reads an injected clock, which the candidate's answers
(about three minutes each) and the interviewer's lines (their spoken length) move on. The model follows
what next_question says, so the Director alone decides when the candidate's questions come and when the
interview closes. Along the way the connection ends five times: goAway, a dropped socket, a goAway whose
resumption the server refuses (a fresh session takes over), goAway, a dropped socket.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from interviewer.agent.interviewer import InterviewerAgent
from interviewer.agent.wiring import greet
from interviewer.interview.steps import Phase
from tests.fakes.gemini_live import Action, CallTool, Drop, FakeGeminiLive, GoAway, Responses, Say, Then
from tests.integration.gemini_interview import (
    GREETING,
    NEXT,
    RECORD,
    instructions_of,
    last_step,
    start_interview,
)

pytestmark = pytest.mark.integration

STEP_TIMEOUT = 20.0
DURATION_MINUTES = 45
ANSWER_SECONDS = 170.0  # thinking and speaking: within the Director's time for one answer
SECONDS_PER_WORD = 0.4  # the interviewer's speech
REFUSED_CONNECTION = 3
FRESH_CONNECTION = 4
# After the model's reply to client turn N, the connection ends like this (turn 0 is the greeting);
# the second number is how many connections have been set up once the client is back.
RECONNECTS: dict[int, tuple[Action, int]] = {
    0: (GoAway(), 2),
    1: (Drop(), 3),
    3: (GoAway(), 5),  # connection 3 is refused, connection 4 is the fresh session
    5: (GoAway(), 6),
    7: (Drop(code=1011, reason="deadline expired"), 7),
}
SYSTEMS = [
    "the ledger service", "the payouts pipeline", "fraud scoring", "merchant search", "the card vault",
    "settlement batches", "the risk API", "webhook delivery", "the billing export", "the audit trail",
    "rate limiting", "the KYC checks", "currency conversion", "the dispute tool", "the statements job",
]  # fmt: skip
NO_QUESTIONS = "No, I don't have any questions, thank you."


def answer(n: int) -> str:
    system = SYSTEMS[n % len(SYSTEMS)]
    if n % 3 == 0:
        return f"We improved {system} a lot as a team over the year."  # vague: the Director follows up
    return (
        f"On {system} I owned the redesign: I profiled it, I moved the hot path to a queue, and error "
        f"rates fell by {10 + n} percent within a month, which I tracked on our dashboards."
    )


class SimulatedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def follow(responses: Responses) -> Sequence[CallTool | Say]:
    """The model says what next_question returned; at the close it says goodbye and ends the interview."""
    step = last_step(responses)
    if step["kind"] in ("close", "end"):
        return [Say(step["say"]), CallTool("end_interview", {"reason": step.get("reason") or "done"})]
    return [Say(step["say"])]


def script() -> Iterator[list[Action]]:
    turn = 0
    while True:
        if turn == 0:
            step: list[Action] = [Say(GREETING)]
        elif turn == 1:
            step = [NEXT, Then(follow)]  # the reply to the greeting answers nothing
        else:
            step = [RECORD, NEXT, Then(follow)]
        if turn in RECONNECTS:
            step.append(RECONNECTS[turn][0])
        yield step
        turn += 1


async def test_a_45_minute_interview_survives_five_reconnects_and_ends_with_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimulatedClock()
    fake = FakeGeminiLive(
        script(),  # open-ended: the Director decides when the interview ends
        refuse_resumption_at=frozenset({REFUSED_CONNECTION}),
        on_say=lambda text: clock.advance(SECONDS_PER_WORD * len(text.split())),
    )
    interview = await start_interview(
        fake,
        tmp_path,
        monkeypatch,
        interview_id="iv-long",
        duration_minutes=DURATION_MINUTES,
        clock=clock,
    )
    session, runtime = interview.session, interview.runtime
    said: list[tuple[str, int]] = []  # each line, and the connection it was said on
    started = time.monotonic()
    try:
        await session.start(InterviewerAgent(runtime))
        await asyncio.wait_for(greet(session, runtime), STEP_TIMEOUT)
        await asyncio.wait_for(runtime.guard.wait_open(), STEP_TIMEOUT)
        turn = 1
        # Until the Director closes: the goodbye and end_interview may still be on their way when the
        # run that led to them returns, so the closing phase, not the end, stops the candidate talking.
        while runtime.director.phase not in (Phase.closing, Phase.ended):
            assert turn < 40, "the interview never ended"
            if turn - 1 in RECONNECTS:  # the previous reply ended its connection: wait for the next
                await asyncio.wait_for(fake.wait_connections(RECONNECTS[turn - 1][1]), STEP_TIMEOUT)
            if turn == 1:
                line = "Hi, happy to be here."
            elif runtime.director.phase is Phase.candidate_questions:
                line = NO_QUESTIONS
            else:
                line = answer(turn)
            clock.advance(ANSWER_SECONDS if turn > 1 else 5.0)
            said.append((line, len(fake.setups) - 1))
            await asyncio.wait_for(session.run(user_input=line), STEP_TIMEOUT)
            turn += 1
        await asyncio.wait_for(runtime.ended.wait(), STEP_TIMEOUT)
    finally:
        await session.aclose()
        await fake.stop()
    wall = time.monotonic() - started

    # Simulated, not slept: most of the 45 minutes passed on the Director's clock, in seconds of wall time.
    assert clock.now >= 40 * 60, clock.now
    assert wall < 60.0, wall

    # Five reconnects: four resumed with the newest handle they had, one refused and replaced by a fresh
    # session, whose handles the later resumptions used.
    assert len(fake.setups) == 7
    assert fake.refused == [REFUSED_CONNECTION]
    assert interview.model.fresh_starts == 1
    assert fake.resumed_with[0] is None
    resumed = [fake.resumed_with[c] for c in (1, 2, 3, 5, 6)]
    assert all(h is not None for h in resumed), fake.resumed_with
    order = [fake.handles.index(h) for h in resumed if h is not None]
    assert order == sorted(order) and len(set(order)) == len(order), fake.resumed_with
    assert "already under way" in instructions_of(fake.setups[FRESH_CONNECTION])
    assert fake.resumed_with[FRESH_CONNECTION] is None

    # Every answer reached the model once where it was said (a fresh session also gets earlier ones as
    # history), every tool call took effect, and the store has every line.
    for line, connection in said:
        sent = [c for c, role, text in fake.texts if text == line and role == "user"]
        expected = [connection] if connection >= FRESH_CONNECTION else [connection, FRESH_CONNECTION]
        assert sent == expected, (line, sent, expected)
    assert interview.runtime.close(5), "the journal did not land"
    events = interview.store.tool_events("iv-long")
    assert [e for e in events if e.outcome != "ok"] == []
    assert sum(e.tool == "record_answer" for e in events) == len(said) - 1
    assert interview.candidate_lines() == [line for line, _connection in said]

    # The Director, on simulated time, brought the candidate's questions and the close; the report is in.
    steps = [last_step([r]) for r in fake.tool_responses if r.get("name") == "next_question"]
    kinds = [s["kind"] for s in steps]
    assert "candidate_questions" in kinds and kinds[-1] == "close", kinds
    assert said[-1][0] == NO_QUESTIONS
    assert events[-1].tool == "end_interview"
    report = interview.store.get_report("iv-long")
    assert report is not None
