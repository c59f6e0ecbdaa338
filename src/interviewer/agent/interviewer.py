"""The interviewer as a livekit-agents `Agent`: instructions plus three tools bound to the runtime."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from livekit.agents import Agent, RunContext, ToolError, function_tool

from interviewer.agent.guard import GuardClosed
from interviewer.agent.runtime import InterviewRuntime, ToolRefused
from interviewer.interview.plans import RolePlan


def instructions_for(plan: RolePlan, duration_minutes: int) -> str:
    competencies = ", ".join(c.name for c in plan.competencies)
    return (
        f"You are an experienced hiring manager interviewing a candidate for the role of {plan.title}, out "
        f"loud, in a {duration_minutes}-minute interview covering: {competencies}.\n"
        "Start with a short, warm greeting: introduce yourself, say how long the interview takes and that "
        "they can ask questions at the end. Do not call any tool during the greeting.\n"
        "After the candidate replies, call next_question and ask what it returns in natural spoken words. "
        "When the candidate has answered, call record_answer with the question_id you were given, a short "
        "summary and a 1-5 score against the role's bar, then call next_question again. Never invent "
        "questions of your own and never repeat one. Keep your own turns short: one or two sentences, then "
        "the question. When next_question says to close, thank the candidate, say goodbye and call "
        "end_interview. If a tool is refused, wait for the candidate and try again later."
    )


class InterviewerAgent(Agent):
    def __init__(self, runtime: InterviewRuntime, *, instructions: str | None = None) -> None:
        super().__init__(
            instructions=instructions or instructions_for(runtime.plan, runtime.director.duration_minutes)
        )
        self.runtime = runtime

    @function_tool
    async def next_question(self, context: RunContext[None]) -> str:
        """Ask the interview plan what to say next: a question, a follow-up, or that it is time to close.

        Returns JSON with `kind`, `question_id` and the `text` to ask in your own words.
        """
        return _call(self.runtime.next_question)

    @function_tool
    async def record_answer(
        self, context: RunContext[None], question_id: str, summary: str, score: int
    ) -> str:
        """Record the candidate's answer to the question being asked.

        Args:
            question_id: the question_id next_question gave for the question being answered.
            summary: one or two sentences summarising the answer.
            score: 1 (weak) to 5 (exceptional) against the role's bar.
        """
        return _call(lambda: self.runtime.record_answer(question_id, summary, score))

    @function_tool
    async def end_interview(self, context: RunContext[None], reason: str) -> str:
        """End the interview and produce the scorecard. Call it after saying goodbye.

        Args:
            reason: why the interview ends (e.g. "all questions covered", "time is up").
        """
        return _call(lambda: self.runtime.end_interview(reason))


def _call(tool: Callable[[], dict[str, Any]]) -> str:
    try:
        return json.dumps(tool())
    except (GuardClosed, ToolRefused) as refusal:
        raise ToolError(str(refusal)) from None
