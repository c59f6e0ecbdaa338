"""The interviewer as a livekit-agents `Agent`: instructions plus three tools bound to the runtime."""

from __future__ import annotations

from collections.abc import Callable

from livekit.agents import Agent, RunContext, ToolError, function_tool
from pydantic import BaseModel

from interviewer.agent.guard import Refused
from interviewer.agent.runtime import InterviewRuntime
from interviewer.interview.plans import RolePlan
from interviewer.interview.wording import interviewer_instructions


def instructions_for(plan: RolePlan, duration_minutes: int) -> str:
    return interviewer_instructions(plan.title, duration_minutes, [c.name for c in plan.competencies])


class InterviewerAgent(Agent):
    def __init__(self, runtime: InterviewRuntime, *, instructions: str | None = None) -> None:
        super().__init__(
            instructions=instructions or instructions_for(runtime.plan, runtime.director.duration_minutes)
        )
        self.runtime = runtime

    @function_tool
    async def next_question(self, context: RunContext[None]) -> str:
        """Ask the interview plan what to say next: a question, a follow-up, or that it is time to close.

        Returns JSON: `kind`, `question_id`, the line to `say` and `instructions` for this step.
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


def _call(tool: Callable[[], BaseModel]) -> str:
    try:
        return tool().model_dump_json(exclude_none=True)
    except Refused as refused:
        # The model (and the offline interviewer) read the refusal's `reason`, never its wording.
        raise ToolError(refused.refusal.model_dump_json()) from None
