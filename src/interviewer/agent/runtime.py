"""One live interview: the Director, the Greeting Guard and the store, bound together.

The tools call into this object; the session wiring feeds it every finished utterance. Every turn and every
tool call is written to the store the moment it happens, so a killed process loses at most the utterance
being spoken.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from interviewer.agent.guard import GreetingGuard
from interviewer.interview.analysis import analyse_answer
from interviewer.interview.director import Director, Phase, Step, StepKind
from interviewer.interview.plans import RolePlan
from interviewer.interview.report import TranscriptLine, build_report, report_html, report_markdown
from interviewer.interview.scoring import score_interview
from interviewer.store import Store

log = logging.getLogger(__name__)


class ToolRefused(Exception):
    """The call made no sense at this point (wrong question id, nothing to record); nothing changed."""


@dataclass
class InterviewRuntime:
    interview_id: str
    plan: RolePlan
    store: Store
    director: Director
    clock: Callable[[], float] = time.monotonic
    guard: GreetingGuard = field(init=False)
    started_at: float = field(init=False)
    report: dict[str, Any] | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    on_step: Callable[[dict[str, Any]], None] | None = None  # e.g. publish progress to the room
    _pending: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.started_at = self.clock()
        self.guard = GreetingGuard(on_refused=self._record_refusal)

    @classmethod
    def create(
        cls,
        store: Store,
        *,
        interview_id: str,
        plan: RolePlan,
        duration_minutes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> InterviewRuntime:
        return cls(
            interview_id=interview_id,
            plan=plan,
            store=store,
            director=Director(plan, duration_minutes),
            clock=clock,
        )

    def elapsed(self) -> float:
        return self.clock() - self.started_at

    @property
    def seconds_left(self) -> float:
        return max(0.0, self.director.total_seconds - self.elapsed())

    # -- transcript ----------------------------------------------------------------------------------

    def candidate_said(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        current = self.director.current
        self.store.add_turn(
            self.interview_id, "candidate", text, question_id=current.question_id if current else None
        )
        self._pending.append(text)
        if analyse_answer(text).wants_to_stop:
            # Whenever it comes (even as the reply to the greeting), a request to stop is honoured.
            self.director.request_stop()

    def agent_said(self, text: str) -> None:
        text = text.strip()
        if text:
            current = self.director.current
            self.store.add_turn(
                self.interview_id, "agent", text, question_id=current.question_id if current else None
            )

    # -- tools (each is checked by the guard first) --------------------------------------------------

    def next_question(self) -> dict[str, Any]:
        self.guard.check("next_question", {})
        current = self.director.current
        if current is not None and self._pending:
            # The model moved on without recording: keep the answer anyway, nothing said is lost.
            self._record(current.question_id or "", None, None)
        step = self.director.next_step(self.elapsed())
        self.store.add_tool_event(self.interview_id, "next_question", {}, "ok", step.kind.value)
        description = self._describe(step)
        if self.on_step is not None:
            self.on_step(description)
        return description

    def record_answer(self, question_id: str, summary: str, score: int | None) -> dict[str, Any]:
        arguments = {"question_id": question_id, "summary": summary, "score": score}
        self.guard.check("record_answer", arguments)
        current = self.director.current
        if current is None or current.question_id != question_id:
            expected = current.question_id if current else None
            self.store.add_tool_event(
                self.interview_id, "record_answer", arguments, "error", "wrong question"
            )
            raise ToolRefused(f"question_id must be the one being asked: {expected!r}")
        if not self._pending:
            self.store.add_tool_event(self.interview_id, "record_answer", arguments, "error", "no answer yet")
            raise ToolRefused("the candidate has not answered yet; wait for them to speak")
        if score is not None and not 1 <= score <= 5:
            raise ToolRefused("score must be between 1 and 5")
        analysis = self._record(question_id, summary, score)
        self.store.add_tool_event(self.interview_id, "record_answer", arguments, "ok")
        return {
            "recorded": question_id,
            "words": analysis["words"],
            "next": "call next_question to hear what to ask next",
        }

    def end_interview(self, reason: str) -> dict[str, Any]:
        self.guard.check("end_interview", {"reason": reason})
        if self._pending and self.director.current is not None:
            self._record(self.director.current.question_id or "", None, None)
        report = self.finish(reason or "ended by the interviewer")
        self.store.add_tool_event(self.interview_id, "end_interview", {"reason": reason}, "ok")
        return {"ended": True, "overall": report["overall"]}

    # -- end ----------------------------------------------------------------------------------------

    def finish(self, reason: str) -> dict[str, Any]:
        """Score, store the report and end. Idempotent: the first reason wins."""
        if self.report is not None:
            return self.report
        self.director.end(reason)
        scorecard = score_interview(self.plan, self.director.answers)
        transcript = [
            TranscriptLine(speaker=t.speaker, text=t.text, at=t.ended_at, seq=t.seq)
            for t in self.store.turns(self.interview_id)
        ]
        report = build_report(
            interview_id=self.interview_id,
            plan=self.plan,
            duration_minutes=self.director.duration_minutes,
            scorecard=scorecard,
            transcript=transcript,
            refused_tool_calls=self.guard.refused,
            end_reason=self.director.end_reason or reason,
        )
        self.store.save_report(
            self.interview_id,
            report=report,
            markdown=report_markdown(report),
            html=report_html(report),
            scores=[
                (c.competency.id, c.score, {"evidence": [e.quote for e in c.evidence]})
                for c in scorecard.competencies
                if c.score is not None
            ],
            reason=self.director.end_reason or reason,
        )
        self.report = report
        self.ended.set()
        log.info("interview finished", extra={"interview_id": self.interview_id, "reason": reason})
        return report

    # -- internals ------------------------------------------------------------------------------------

    def _record(self, question_id: str, summary: str | None, score: int | None) -> dict[str, Any]:
        # One line per utterance, so an evidence sentence never spans two turns.
        text = "\n".join(self._pending)
        self._pending.clear()
        answer = self.director.record_answer(
            question_id, text, self.elapsed(), summary=summary, model_score=score
        )
        return {"words": answer.analysis.word_count}

    def _record_refusal(self, tool: str, arguments: dict[str, Any]) -> None:
        self.store.add_tool_event(self.interview_id, tool, arguments, "refused", "greeting guard closed")

    def _describe(self, step: Step) -> dict[str, Any]:
        description: dict[str, Any] = {
            "kind": step.kind.value,
            "phase": step.phase.value,
            "seconds_left": round(self.seconds_left),
        }
        if step.question_id:
            description["question_id"] = step.question_id
        if step.text:
            description["text"] = step.text
        if step.competency_id:
            description["competency"] = self.plan.competency(step.competency_id).name
            description["new_competency"] = (
                step.kind is StepKind.ask and self.director.main_questions_asked(step.competency_id) == 1
            )
        if step.follow_up_kind:
            description["follow_up"] = step.follow_up_kind.value
        if step.reason:
            description["reason"] = step.reason
        if step.kind is StepKind.close:
            description["instructions"] = "Thank the candidate, say goodbye, then call end_interview."
        elif step.kind is StepKind.end:
            description["instructions"] = "Call end_interview now."
        else:
            description["instructions"] = "Ask this in your own words, then listen."
        return description

    @property
    def phase(self) -> Phase:
        return self.director.phase
