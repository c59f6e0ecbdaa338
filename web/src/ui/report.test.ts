// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import type { Report } from "../types";
import { anyAssessed, evidenceLine, reportBody } from "./report";

// The shape src/interviewer/interview/report.py build_report produces, from a real run of the stack.
function realReport(overrides: Partial<Report> = {}): Report {
  const answer = "At my last company I designed the event ingestion service, latency dropped from 900 to 100 ms.";
  return {
    interview_id: "iv_x",
    role: "backend-engineer",
    role_title: "Backend Engineer",
    duration_minutes: 10,
    end_reason: "ended by the candidate",
    competencies: [
      {
        id: "system-design",
        name: "System design",
        kind: "role",
        score: 4,
        rationale: "quantified the impact",
        // the stored turn's sequence number (1-based, greeting = 1): NOT an index into transcript
        evidence: [{ quote: answer, question_id: "sd-1", turn: 4 }],
        coverage: "assessed",
      },
      {
        id: "reliability",
        name: "Reliability",
        kind: "role",
        score: null,
        rationale: "not reached in this interview: time ran out before it",
        evidence: [],
        coverage: "not_reached",
        reason: "time ran out before it",
      },
    ],
    overall: { score: 4, recommendation: "lean_hire", summary: "Overall 4.0/5 across 2 of 2 competencies.", verdict: "lean hire: 2 of 2 competencies covered" },
    coverage: { assessed: 2, total: 2, needed: 2, enough: true },
    not_reached: [],
    candidate_questions: [],
    strengths: ["System design: measured outcomes."],
    next_steps: ["Prepare for reliability."],
    transcript: [
      { speaker: "agent", text: "Hello, and thank you for joining.", at: "2026-11-27T05:12:36" },
      { speaker: "candidate", text: "Yes.", at: "2026-11-27T05:12:39" },
      { speaker: "agent", text: "Tell me about a system you designed.", at: "2026-11-27T05:12:45" },
      { speaker: "candidate", text: answer, at: "2026-11-27T05:13:01" },
    ],
    guard: { refused_tool_calls: 1 },
    ...overrides,
  };
}

describe("report body with the real report JSON", () => {
  it("links evidence to the transcript line that holds the quote, not to turn N", () => {
    const r = realReport();
    expect(evidenceLine(r, r.competencies[0]!.evidence[0]!)).toBe(3);
    const el = reportBody(r);
    const link = el.querySelector(".turn-link")!;
    expect(link.getAttribute("href")).toBe("#turn-3");
    expect(el.querySelector("#turn-3")!.textContent).toContain("event ingestion");
    expect(el.querySelector('.competency-score[data-competency-id="system-design"]')!.textContent).toContain("4 / 5");
    expect(el.querySelector('.competency-score[data-competency-id="reliability"]')!.textContent).toContain("not assessed");
    expect(el.querySelector("#overall-score")!.textContent).toBe("4.0 / 5");
    expect(el.querySelector("#recommendation")!.textContent).toBe("Lean hire");
  });

  it("a quote missing from the transcript (or turn null) gets no dangling link", () => {
    const r = realReport();
    r.competencies[0]!.evidence = [{ quote: "never said", question_id: null, turn: null }];
    const el = reportBody(r);
    expect(el.querySelector(".turn-link")).toBeNull();
    expect(el.querySelector(".evidence blockquote")!.textContent).toContain("never said");
  });

  it("nothing assessed: no 0.0 / 5 'No hire' verdict", () => {
    const r = realReport({
      competencies: [{ id: "a", name: "A", kind: "role", score: null, rationale: "not reached in this interview", evidence: [], coverage: "not_reached" }],
      overall: { score: 0, recommendation: null, summary: "No recommendation.", verdict: "not enough evidence: 0 of 1 competencies covered" },
    });
    expect(anyAssessed(r)).toBe(false);
    const el = reportBody(r);
    expect(el.querySelector("#overall-score")!.textContent).toBe("— / 5");
    expect(el.querySelector("#recommendation")!.textContent).toBe("Not assessed");
    expect(el.textContent).not.toContain("No hire");
  });

  it("too few competencies assessed: 'Not enough evidence', and what was not reached and why", () => {
    const r = realReport({
      overall: { score: 4, recommendation: null, summary: "No recommendation: not enough evidence: 1 of 5 competencies covered.", verdict: "not enough evidence: 1 of 5 competencies covered" },
      not_reached: [{ id: "reliability", name: "Reliability", coverage: "not_reached", reason: "the candidate ended the interview before it" }],
      candidate_questions: [{ text: "What is the team size?", for_hiring_team: true }],
    });
    const el = reportBody(r);
    expect(el.querySelector("#recommendation")!.textContent).toBe("Not enough evidence");
    expect(el.querySelector("#not-reached")!.textContent).toContain("Reliability: the candidate ended the interview before it");
    expect(el.querySelector("#candidate-questions")!.textContent).toContain("What is the team size?");
    expect(el.textContent).not.toContain("Lean hire");
  });
});
