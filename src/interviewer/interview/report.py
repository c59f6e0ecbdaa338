"""The report a candidate reads after the interview: JSON (the contract), Markdown and self-contained HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from interviewer.interview.plans import RolePlan
from interviewer.interview.scoring import Scorecard


@dataclass(frozen=True)
class TranscriptLine:
    speaker: str  # "agent" | "candidate"
    text: str
    at: datetime | None = None
    seq: int | None = None


def build_report(
    *,
    interview_id: str,
    plan: RolePlan,
    duration_minutes: int,
    scorecard: Scorecard,
    transcript: Sequence[TranscriptLine],
    refused_tool_calls: int,
    end_reason: str,
) -> dict[str, Any]:
    """The report JSON. Evidence quotes point at the transcript line they come from."""

    def turn_of(quote: str) -> int | None:
        for index, line in enumerate(transcript):
            if line.speaker == "candidate" and quote in line.text:
                return line.seq if line.seq is not None else index
        return None

    summary = (
        f"Overall {scorecard.overall_score:.1f}/5 across "
        f"{sum(1 for c in scorecard.competencies if c.score is not None)} of "
        f"{len(scorecard.competencies)} competencies; ended: {end_reason}."
    )
    return {
        "interview_id": interview_id,
        "role": plan.id,
        "role_title": plan.title,
        "duration_minutes": duration_minutes,
        "end_reason": end_reason,
        "competencies": [
            {
                "id": c.competency.id,
                "name": c.competency.name,
                "kind": c.competency.kind,
                "score": c.score,
                "rationale": c.rationale,
                "evidence": [
                    {"quote": e.quote, "question_id": e.question_id, "turn": turn_of(e.quote)}
                    for e in c.evidence
                ],
            }
            for c in scorecard.competencies
        ],
        "overall": {
            "score": scorecard.overall_score,
            "recommendation": scorecard.recommendation.value,
            "summary": summary,
        },
        "strengths": list(scorecard.strengths),
        "next_steps": list(scorecard.next_steps),
        "transcript": [
            {"speaker": line.speaker, "text": line.text, "at": line.at.isoformat() if line.at else None}
            for line in transcript
        ],
        "guard": {"refused_tool_calls": refused_tool_calls},
    }


def _label(recommendation: str) -> str:
    return recommendation.replace("_", " ")


def report_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Interview report — {report['role_title']}",
        "",
        f"**Recommendation:** {_label(report['overall']['recommendation'])} · "
        f"**Overall:** {report['overall']['score']:.1f}/5",
        "",
        report["overall"]["summary"],
        "",
        "## Competencies",
    ]
    for c in report["competencies"]:
        score = "not assessed" if c["score"] is None else f"{c['score']}/5"
        lines += ["", f"### {c['name']} — {score}", "", c["rationale"]]
        lines += [f"> “{e['quote']}”" for e in c["evidence"]]
    for title, key in (("Strengths", "strengths"), ("Next steps", "next_steps")):
        if report[key]:
            lines += ["", f"## {title}", ""] + [f"- {item}" for item in report[key]]
    lines += ["", "## Transcript", ""]
    lines += [f"**{t['speaker'].title()}:** {t['text']}  " for t in report["transcript"]]
    return "\n".join(lines) + "\n"


_CSS = """
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}.rec{font-weight:600}
.bar{display:flex;align-items:center;gap:.5rem;margin:.25rem 0}.bar svg{flex:none}
blockquote{margin:.3rem 0 .3rem 1rem;padding-left:.8rem;border-left:3px solid #7a9cc6;color:#333}
.t-agent{color:#555}.t-candidate{color:#000}dt{font-weight:600}
"""


def report_html(report: dict[str, Any]) -> str:
    """A single HTML file with inline CSS and SVG: opens anywhere, fetches nothing."""
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>Interview report — {esc(report['role_title'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>Interview report — {esc(report['role_title'])}</h1>",
        f"<p class='rec'>Recommendation: {esc(_label(report['overall']['recommendation']))} · "
        f"overall {report['overall']['score']:.1f}/5</p><p>{esc(report['overall']['summary'])}</p>",
        "<h2>Competencies</h2>",
    ]
    for c in report["competencies"]:
        score = c["score"] or 0
        label = "not assessed" if c["score"] is None else f"{c['score']}/5"
        parts.append(
            f"<div class='bar'><svg width='200' height='14' role='img' aria-label='{esc(label)}'>"
            f"<rect width='200' height='14' fill='#e8edf3'/><rect width='{score * 40}' height='14' "
            f"fill='#3b6ea5'/></svg><strong>{esc(c['name'])}</strong> {esc(label)}</div>"
            f"<p>{esc(c['rationale'])}</p>"
        )
        parts += [f"<blockquote>“{esc(e['quote'])}”</blockquote>" for e in c["evidence"]]
    for title, key in (("Strengths", "strengths"), ("Next steps", "next_steps")):
        if report[key]:
            parts.append(
                f"<h2>{title}</h2><ul>" + "".join(f"<li>{esc(i)}</li>" for i in report[key]) + "</ul>"
            )
    parts.append("<h2>Transcript</h2><dl>")
    for t in report["transcript"]:
        parts.append(
            f"<dt class='t-{esc(t['speaker'])}'>{esc(t['speaker'].title())}</dt><dd>{esc(t['text'])}</dd>"
        )
    parts.append("</dl></body></html>")
    return "".join(parts)
