"""One live interview: the Director, the Greeting Guard and the store, bound together.

The tools call into this object; the session wiring feeds it every finished utterance. Every turn and every
tool call goes to the interview's journal the moment it happens (journal.py: written in order, off the event
loop, retried through a database outage), so a killed process loses at most the utterance being spoken.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from interviewer.agent.guard import GreetingGuard, RefusalReason, Refused
from interviewer.agent.journal import InterviewWrites, Journal
from interviewer.interview.director import Answer, Director, Phase, Step
from interviewer.interview.intents import Intent, classify
from interviewer.interview.plans import RolePlan
from interviewer.interview.report import (
    Report,
    TranscriptLine,
    build_report,
    report_html,
    report_markdown,
)
from interviewer.interview.scoring import Recommendation, score_interview
from interviewer.interview.voice_step import VoiceStep, render
from interviewer.store import Store

log = logging.getLogger(__name__)

# How long the report waits for the journal to land before it reads the transcript back: a database that is
# away longer than this fails the report's own write too, and the job's close tries again.
FINISH_FLUSH_SECONDS = 5.0


class ToolRefused(Refused):
    """The call made no sense at this point (wrong question id, nothing to record); nothing changed."""


class RecordedAnswer(BaseModel):
    """What record_answer tells the model: what the candidate meant decides what the plan does next."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recorded: str
    words: int
    intent: Intent
    next: str = "call next_question to hear what to say next"


class Ended(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ended: bool = True
    recommendation: Recommendation | None
    summary: str


@dataclass
class InterviewRuntime:
    interview_id: str
    plan: RolePlan
    store: Store
    director: Director
    clock: Callable[[], float] = time.monotonic
    guard: GreetingGuard = field(init=False)
    journal: Journal = field(init=False)
    writes: InterviewWrites = field(init=False)  # the journal, or nothing while a replay runs
    started_at: float = field(init=False)
    report: Report | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    # e.g. publish progress to the room; a plain dict until the worker's publisher takes the VoiceStep itself
    on_step: Callable[[VoiceStep], None] | None = None
    _pending: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.started_at = self.clock()
        self.guard = GreetingGuard(on_refused=self._record_refusal)
        self.journal = Journal(self.store, self.interview_id)
        self.writes = self.journal

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
        self.writes.turn("candidate", text, current.question_id if current else None)
        self._pending.append(text)
        if classify(text).intent is Intent.stop:
            # Whenever it comes (even as the reply to the greeting), a request to stop is honoured.
            self.director.request_stop()

    def agent_said(self, text: str) -> None:
        text = text.strip()
        if text:
            current = self.director.current
            self.writes.turn("agent", text, current.question_id if current else None)

    # -- tools (each is checked by the guard first) --------------------------------------------------

    def next_question(self) -> VoiceStep:
        self.guard.check("next_question", {})
        current = self.director.current
        if current is not None and self._pending:
            # The model moved on without recording: keep the answer anyway, nothing said is lost.
            self._record(current.question_id or "", None, None)
        elif current is None:
            self._pending.clear()  # the reply to the greeting is not an answer to anything
        step = self.director.next_step(self.elapsed())
        self.writes.tool_event("next_question", {}, "ok", step.kind.value)
        voice_step = self._voice(step)
        if self.on_step is not None:
            self.on_step(voice_step)
        return voice_step

    def record_answer(self, question_id: str, summary: str, score: int | None) -> RecordedAnswer:
        arguments = {"question_id": question_id, "summary": summary, "score": score}
        self.guard.check("record_answer", arguments)
        current = self.director.current
        if current is None or current.question_id != question_id:
            expected = current.question_id if current else None
            self.writes.tool_event("record_answer", arguments, "error", "wrong question")
            raise ToolRefused(
                RefusalReason.wrong_question, f"question_id must be the one being asked: {expected!r}"
            )
        if not self._pending:
            self.writes.tool_event("record_answer", arguments, "error", "no answer yet")
            raise ToolRefused(
                RefusalReason.no_answer_yet, "the candidate has not answered yet; wait for them to speak"
            )
        if score is not None and not 1 <= score <= 5:
            raise ToolRefused(RefusalReason.invalid_argument, "score must be between 1 and 5")
        answer = self._record(question_id, summary, score)
        self.writes.tool_event("record_answer", arguments, "ok")
        return RecordedAnswer(recorded=question_id, words=answer.analysis.word_count, intent=answer.intent)

    def silence(self, silent_seconds: float) -> VoiceStep | None:
        """The candidate has been silent this long since the interviewer spoke: a prompt, move on, or wait."""
        step = self.director.silence(silent_seconds, self.elapsed())
        if step is None:
            return None
        self.writes.tool_event("silence", {"seconds": round(silent_seconds, 1)}, "ok", step.kind.value)
        return self._voice(step)

    def interrupt(self) -> VoiceStep | None:
        """While the candidate speaks: a polite interruption once their answer runs past its time."""
        step = self.director.interrupt(self.elapsed())
        if step is None:
            return None
        self.writes.tool_event("interrupt", {}, "ok", step.kind.value)
        return self._voice(step)

    def end_interview(self, reason: str) -> Ended:
        self.guard.check("end_interview", {"reason": reason})
        if self._pending and self.director.current is not None:
            self._record(self.director.current.question_id or "", None, None)
        report = self.finish(reason or "ended by the interviewer")
        self.writes.tool_event("end_interview", {"reason": reason}, "ok")
        return Ended(recommendation=report.overall.recommendation, summary=report.overall.summary)

    # -- end ----------------------------------------------------------------------------------------

    def finish(self, reason: str) -> Report:
        """Score, store the report and end. Idempotent: the first reason wins."""
        if self.report is not None:
            return self.report
        self.director.end(reason)
        end_reason = self.director.end_reason or reason
        scorecard = score_interview(
            self.plan,
            self.director.answers,
            asked=self.director.covered_competencies(),
            end_reason=end_reason,
        )
        if not self.journal.flush(FINISH_FLUSH_SECONDS):
            log.warning("the report reads a transcript whose last lines are not yet stored")
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
            end_reason=end_reason,
            candidate_questions=self.director.candidate_questions,
        )
        self.store.save_report(
            self.interview_id,
            report=report.model_dump(mode="json"),
            markdown=report_markdown(report),
            html=report_html(report),
            scores=[
                (c.competency.id, c.score, {"evidence": [e.quote for e in c.evidence]})
                for c in scorecard.competencies
                if c.score is not None
            ],
            reason=end_reason,
        )
        self.report = report
        self.ended.set()
        log.info("interview finished", extra={"interview_id": self.interview_id, "reason": reason})
        return report

    def close(self, timeout: float) -> bool:
        """Land what the journal still holds and stop its thread; False if some of it could not be."""
        return self.journal.close(timeout)

    # -- internals ------------------------------------------------------------------------------------

    def _record(self, question_id: str, summary: str | None, score: int | None) -> Answer:
        # One line per utterance, so an evidence sentence never spans two turns.
        text = "\n".join(self._pending)
        self._pending.clear()
        return self.director.record_answer(
            question_id, text, self.elapsed(), summary=summary, model_score=score
        )

    def _record_refusal(self, tool: str, arguments: dict[str, Any]) -> None:
        self.writes.tool_event(tool, arguments, "refused", "greeting guard closed")

    def _voice(self, step: Step) -> VoiceStep:
        return render(
            step, self.plan, duration_minutes=self.director.duration_minutes, seconds_left=self.seconds_left
        )

    @property
    def phase(self) -> Phase:
        return self.director.phase
