"""Scorecard: per-competency 1-5 scores from the rubric and the answer analysis, with verbatim evidence."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from interviewer.interview.analysis import AnswerAnalysis, Ownership, analyse_answer
from interviewer.interview.director import Answer
from interviewer.interview.plans import Competency, RolePlan

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_EVIDENCE_CUE = re.compile(r"\d|\b(i|result|reduced|increased|improved|saved|outcome|measured)\b", re.I)
MAX_EVIDENCE = 3


class Recommendation(StrEnum):
    strong_hire = "strong_hire"
    hire = "hire"
    lean_hire = "lean_hire"
    lean_no_hire = "lean_no_hire"
    no_hire = "no_hire"


@dataclass(frozen=True)
class Evidence:
    quote: str
    question_id: str


class Coverage(StrEnum):
    assessed = "assessed"
    no_example = "no_example"  # asked; the candidate said they had no example
    unanswered = "unanswered"  # asked; no answer came (silence, detours, the interview moved on)
    not_reached = "not_reached"


@dataclass(frozen=True)
class CompetencyScore:
    competency: Competency
    score: int | None  # None: not assessed
    rationale: str
    evidence: tuple[Evidence, ...] = ()
    coverage: Coverage = Coverage.assessed
    reason: str | None = None  # why it was not assessed


@dataclass(frozen=True)
class Scorecard:
    competencies: tuple[CompetencyScore, ...]
    overall_score: float
    recommendation: Recommendation | None  # None: not enough evidence to recommend anything
    strengths: tuple[str, ...] = field(default=())
    next_steps: tuple[str, ...] = field(default=())

    @property
    def assessed(self) -> int:
        return sum(1 for c in self.competencies if c.score is not None)

    @property
    def needed(self) -> int:
        return evidence_needed(len(self.competencies))

    @property
    def verdict(self) -> str:
        total = len(self.competencies)
        if self.recommendation is None:
            return f"not enough evidence: {self.assessed} of {total} competencies covered"
        return (
            f"{self.recommendation.value.replace('_', ' ')}: {self.assessed} of {total} competencies covered"
        )


def evidence_needed(total: int) -> int:
    """How many competencies must be assessed before a hire/no-hire call is defensible: most of them."""
    return min(total, max(2, math.ceil(0.6 * total)))


def recommendation_for(score: float, assessed: int, total: int) -> Recommendation | None:
    if assessed < evidence_needed(total):
        return None
    if score >= 4.25:
        return Recommendation.strong_hire
    if score >= 3.5:
        return Recommendation.hire
    if score >= 3.0:
        return Recommendation.lean_hire
    if score >= 2.25:
        return Recommendation.lean_no_hire
    return Recommendation.no_hire


def not_reached_reason(end_reason: str | None) -> str:
    reason = (end_reason or "").lower()
    if "time is up" in reason:
        return "time ran out before it"
    if "candidate" in reason and any(w in reason for w in ("stop", "left", "ended")):
        return "the candidate ended the interview before it"
    return f"the interview ended before it ({end_reason or 'unknown reason'})"


def _combined(answers: Sequence[Answer]) -> AnswerAnalysis:
    return analyse_answer(" ".join(a.text for a in answers))


def rubric_score(analysis: AnswerAnalysis) -> tuple[int, list[str]]:
    """1-5 from what was said; the reasons read like a hiring manager's margin notes."""
    score, notes = 1, []
    if analysis.word_count >= 40:
        score += 1
    else:
        notes.append("answers were brief")
    if analysis.action and (analysis.situation or analysis.task):
        score += 1
        notes.append("described the situation and their actions")
    elif not analysis.action:
        notes.append("no concrete actions described")
    if analysis.result:
        score += 1
        notes.append("stated an outcome")
    else:
        notes.append("no outcome stated")
    if analysis.has_numbers:
        score += 1
        notes.append("quantified the impact")
    else:
        notes.append("no numbers or measures")
    if analysis.ownership is Ownership.team_only:
        score -= 1
        notes.append("spoke only of 'we', never of their own part")
    if analysis.hedge_rate > 3.0:
        score -= 1
        notes.append("hedged a lot")
    return max(1, min(5, score)), notes


def evidence_quotes(answers: Sequence[Answer], limit: int = MAX_EVIDENCE) -> tuple[Evidence, ...]:
    """Verbatim sentences from the candidate's answers, the most telling first.

    Each quote is sliced out of the answer text itself, so it is always a substring of what was said.
    """
    ranked: list[tuple[int, int, Evidence]] = []
    order = 0
    for answer in answers:
        for match in _SENTENCE.finditer(answer.text):
            quote = match.group().strip()
            if len(quote.split()) < 4:
                continue
            weight = len(_EVIDENCE_CUE.findall(quote))
            ranked.append((-weight, order, Evidence(quote=quote, question_id=answer.question_id)))
            order += 1
    ranked.sort(key=lambda item: (item[0], item[1]))
    return tuple(item[2] for item in ranked[:limit])


def score_interview(
    plan: RolePlan,
    answers: Sequence[Answer],
    *,
    asked: Sequence[str] = (),
    end_reason: str | None = None,
) -> Scorecard:
    """Score what was said. `asked`: competencies whose question was put to the candidate."""
    results: list[CompetencyScore] = []
    for competency in plan.competencies:
        said = [a for a in answers if a.competency_id == competency.id]
        mine = [a for a in said if a.is_answer and a.text.strip()]
        if not mine:
            results.append(_unassessed(competency, said, asked, end_reason))
            continue
        score, notes = rubric_score(_combined(mine))
        model_scores = [a.model_score for a in mine if a.model_score is not None]
        if model_scores:
            # The interviewer model's judgement counts, but the rubric evidence weighs double.
            score = round((2 * score + sum(model_scores) / len(model_scores)) / 3)
        rationale = f"{competency.rubric[score]} ({'; '.join(notes)})"
        results.append(CompetencyScore(competency, score, rationale, evidence_quotes(mine)))

    assessed = [r.score for r in results if r.score is not None]
    overall = round(sum(assessed) / len(assessed), 2) if assessed else 0.0
    strengths = tuple(
        f"{r.competency.name}: {r.competency.rubric[r.score]}" for r in results if r.score and r.score >= 4
    )
    next_steps = _next_steps(results, answers)
    return Scorecard(
        competencies=tuple(results),
        overall_score=overall,
        recommendation=recommendation_for(overall, len(assessed), len(results)),
        strengths=strengths,
        next_steps=next_steps,
    )


def _unassessed(
    competency: Competency, said: Sequence[Answer], asked: Sequence[str], end_reason: str | None
) -> CompetencyScore:
    if said:
        reason = "the candidate said they had no example"
        return CompetencyScore(competency, None, f"not assessed: {reason}", (), Coverage.no_example, reason)
    if competency.id in asked:
        reason = "asked, but no answer came before the interview moved on"
        return CompetencyScore(competency, None, f"not assessed: {reason}", (), Coverage.unanswered, reason)
    reason = not_reached_reason(end_reason)
    return CompetencyScore(
        competency, None, f"not reached in this interview: {reason}", (), Coverage.not_reached, reason
    )


def _next_steps(results: Sequence[CompetencyScore], answers: Sequence[Answer]) -> tuple[str, ...]:
    steps: list[str] = []
    core = [a for a in answers if a.competency_id is not None and a.is_answer]
    if core:
        overall = _combined(core)
        if not overall.has_numbers:
            steps.append("Quantify your impact: give a number for what changed (time, money, users, errors).")
        if not overall.result:
            steps.append("Finish each story with its outcome: what happened because of what you did.")
        if overall.ownership is Ownership.team_only:
            steps.append("Say 'I' for your own part: the interviewer needs to know what you did.")
        if overall.hedge_rate > 3.0:
            steps.append("Speak with more certainty about your own work: fewer 'maybe' and 'I think'.")
    for result in results:
        if result.score is not None and result.score <= 2:
            steps.append(f"Prepare a concrete story for {result.competency.name.lower()}, with a result.")
        elif result.coverage is Coverage.no_example:
            steps.append(f"Prepare one real example for {result.competency.name.lower()}.")
        elif result.score is None:
            steps.append(f"Prepare for {result.competency.name.lower()}: this interview did not reach it.")
    return tuple(steps)
