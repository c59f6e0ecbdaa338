"""The report a candidate reads after the interview: JSON (the contract), Markdown and self-contained HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from interviewer.interview.plans import RolePlan
from interviewer.interview.scoring import Coverage, Recommendation, Scorecard
from interviewer.interview.steps import CandidateQuestion


@dataclass(frozen=True)
class TranscriptLine:
    speaker: str  # "agent" | "candidate"
    text: str
    at: datetime | None = None
    seq: int | None = None


class _Out(BaseModel):
    # Reports stored before a field existed still load: new fields have defaults, unknown ones are kept out.
    model_config = ConfigDict(frozen=True, extra="ignore")


class EvidenceOut(_Out):
    quote: str = Field(description="Verbatim from the candidate's answer.")
    question_id: str | None = None
    turn: int | None = Field(
        default=None, description="The stored turn's sequence number (text mode: the transcript index)."
    )


class CompetencyResult(_Out):
    id: str
    name: str
    kind: str | None = None
    score: int | None = Field(ge=1, le=5, description="1-5, or null when not assessed.")
    rationale: str
    evidence: list[EvidenceOut] = []
    coverage: Coverage = Coverage.assessed
    reason: str | None = Field(default=None, description="Why it was not assessed.")


class Overall(_Out):
    score: float = Field(description="Mean of the assessed competencies; 0 when none was.")
    recommendation: Recommendation | None = Field(
        description="Null when too few competencies were assessed to recommend anything."
    )
    summary: str
    verdict: str = ""


class CoverageSummary(_Out):
    assessed: int
    total: int
    needed: int = Field(description="Competencies that must be assessed for a recommendation.")
    enough: bool


class NotReached(_Out):
    id: str
    name: str
    coverage: Coverage
    reason: str


class CandidateQuestionOut(_Out):
    text: str
    for_hiring_team: bool = Field(description="The interviewer could not answer it; the hiring team will.")


class TranscriptLineOut(_Out):
    speaker: Literal["agent", "candidate"]
    text: str
    at: str | None = None


class GuardSummary(_Out):
    refused_tool_calls: int


class Report(_Out):
    """The scorecard a candidate reads after the interview: the api's contract with the web client."""

    interview_id: str
    role: str
    role_title: str
    duration_minutes: int
    end_reason: str = ""
    competencies: list[CompetencyResult]
    overall: Overall
    coverage: CoverageSummary | None = None
    not_reached: list[NotReached] = []
    candidate_questions: list[CandidateQuestionOut] = []
    strengths: list[str]
    next_steps: list[str]
    transcript: list[TranscriptLineOut]
    guard: GuardSummary


def build_report(
    *,
    interview_id: str,
    plan: RolePlan,
    duration_minutes: int,
    scorecard: Scorecard,
    transcript: Sequence[TranscriptLine],
    refused_tool_calls: int,
    end_reason: str,
    candidate_questions: Sequence[CandidateQuestion] = (),
) -> Report:
    """The report. Evidence quotes point at the transcript line they come from."""

    def turn_of(quote: str) -> int | None:
        for index, line in enumerate(transcript):
            if line.speaker == "candidate" and quote in line.text:
                return line.seq if line.seq is not None else index
        return None

    total = len(scorecard.competencies)
    summary = (
        f"Overall {scorecard.overall_score:.1f}/5 across {scorecard.assessed} of {total} competencies; "
        f"ended: {end_reason}."
    )
    if scorecard.recommendation is None:
        summary = f"No recommendation: {scorecard.verdict}; ended: {end_reason}."
    return Report(
        interview_id=interview_id,
        role=plan.id,
        role_title=plan.title,
        duration_minutes=duration_minutes,
        end_reason=end_reason,
        competencies=[
            CompetencyResult(
                id=c.competency.id,
                name=c.competency.name,
                kind=c.competency.kind,
                score=c.score,
                rationale=c.rationale,
                evidence=[
                    EvidenceOut(quote=e.quote, question_id=e.question_id, turn=turn_of(e.quote))
                    for e in c.evidence
                ],
                coverage=c.coverage,
                reason=c.reason,
            )
            for c in scorecard.competencies
        ],
        overall=Overall(
            score=scorecard.overall_score,
            recommendation=scorecard.recommendation,
            summary=summary,
            verdict=scorecard.verdict,
        ),
        coverage=CoverageSummary(
            assessed=scorecard.assessed,
            total=total,
            needed=scorecard.needed,
            enough=scorecard.recommendation is not None,
        ),
        not_reached=[
            NotReached(id=c.competency.id, name=c.competency.name, coverage=c.coverage, reason=c.reason)
            for c in scorecard.competencies
            if c.score is None and c.reason is not None
        ],
        candidate_questions=[
            CandidateQuestionOut(text=q.text, for_hiring_team=q.topic.value == "other")
            for q in candidate_questions
        ],
        strengths=list(scorecard.strengths),
        next_steps=list(scorecard.next_steps),
        transcript=[
            TranscriptLineOut(
                speaker="candidate" if line.speaker == "candidate" else "agent",
                text=line.text,
                at=line.at.isoformat() if line.at else None,
            )
            for line in transcript
        ],
        guard=GuardSummary(refused_tool_calls=refused_tool_calls),
    )


def _label(recommendation: Recommendation | None) -> str:
    return "no recommendation" if recommendation is None else recommendation.value.replace("_", " ")


def report_markdown(report: Report) -> str:
    overall = report.overall
    lines = [
        f"# Interview report — {report.role_title}",
        "",
        f"**Recommendation:** {_label(overall.recommendation)} · **Overall:** {overall.score:.1f}/5",
        "",
        overall.summary,
        "",
        "## Competencies",
    ]
    for c in report.competencies:
        score = "not assessed" if c.score is None else f"{c.score}/5"
        lines += ["", f"### {c.name} — {score}", "", c.rationale]
        lines += [f"> “{e.quote}”" for e in c.evidence]
    if report.not_reached:
        lines += ["", "## Not assessed", ""] + [f"- {n.name}: {n.reason}" for n in report.not_reached]
    asked = [q.text for q in report.candidate_questions if q.for_hiring_team]
    for title, items in (
        ("Strengths", report.strengths),
        ("Next steps", report.next_steps),
        ("Questions for the hiring team", asked),
    ):
        if items:
            lines += ["", f"## {title}", ""] + [f"- {item}" for item in items]
    lines += ["", "## Transcript", ""]
    lines += [f"**{t.speaker.title()}:** {t.text}  " for t in report.transcript]
    return "\n".join(lines) + "\n"


_CSS = """
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}.rec{font-weight:600}
.bar{display:flex;align-items:center;gap:.5rem;margin:.25rem 0}.bar svg{flex:none}
blockquote{margin:.3rem 0 .3rem 1rem;padding-left:.8rem;border-left:3px solid #7a9cc6;color:#333}
.t-agent{color:#555}.t-candidate{color:#000}dt{font-weight:600}
"""


def report_html(report: Report) -> str:
    """A single HTML file with inline CSS and SVG: opens anywhere, fetches nothing."""
    esc = html.escape
    overall = report.overall
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>Interview report — {esc(report.role_title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Interview report — {esc(report.role_title)}</h1>",
        f"<p class='rec'>Recommendation: {esc(_label(overall.recommendation))} · "
        f"overall {overall.score:.1f}/5</p><p>{esc(overall.summary)}</p>",
        "<h2>Competencies</h2>",
    ]
    for c in report.competencies:
        score = c.score or 0
        label = "not assessed" if c.score is None else f"{c.score}/5"
        parts.append(
            f"<div class='bar'><svg width='200' height='14' role='img' aria-label='{esc(label)}'>"
            f"<rect width='200' height='14' fill='#e8edf3'/><rect width='{score * 40}' height='14' "
            f"fill='#3b6ea5'/></svg><strong>{esc(c.name)}</strong> {esc(label)}</div>"
            f"<p>{esc(c.rationale)}</p>"
        )
        parts += [f"<blockquote>“{esc(e.quote)}”</blockquote>" for e in c.evidence]
    asked = [q.text for q in report.candidate_questions if q.for_hiring_team]
    for title, items in (
        ("Not assessed", [f"{n.name}: {n.reason}" for n in report.not_reached]),
        ("Strengths", report.strengths),
        ("Next steps", report.next_steps),
        ("Questions for the hiring team", asked),
    ):
        if items:
            parts.append(f"<h2>{title}</h2><ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>")
    parts.append("<h2>Transcript</h2><dl>")
    for t in report.transcript:
        parts.append(f"<dt class='t-{esc(t.speaker)}'>{esc(t.speaker.title())}</dt><dd>{esc(t.text)}</dd>")
    parts.append("</dl></body></html>")
    return "".join(parts)
