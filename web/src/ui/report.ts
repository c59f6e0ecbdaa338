import { formatDate, h } from "../dom";
import { STATUS_LABELS, type Evidence, type Recommendation, type Report } from "../types";
import { competencyChart } from "./chart";
import { errorBanner, heading, type Ctx, type View } from "./view";

export const RECOMMENDATION_LABELS: Record<Recommendation, string> = {
  strong_hire: "Strong hire",
  hire: "Hire",
  lean_hire: "Lean hire",
  lean_no_hire: "Lean no hire",
  no_hire: "No hire",
};

/** The index in `transcript` of the candidate line an evidence quote comes from: by its text (what the
 *  server's own `turn` lookup does), because `turn` is a stored sequence number, not an index. */
export function evidenceLine(r: Report, e: Evidence): number | null {
  const quote = e.quote.trim();
  const i = r.transcript.findIndex((t) => t.speaker === "candidate" && quote.length > 0 && t.text.includes(quote));
  return i === -1 ? null : i;
}

/** True when at least one competency was scored; otherwise the overall 0.0 means "nothing assessed". */
export function anyAssessed(r: Report): boolean {
  return r.competencies.some((c) => c.score !== null);
}

/** The badge: a recommendation only when the report makes one (enough competencies were assessed). */
export function recommendationLabel(r: Report): { label: string; cls: string } {
  const rec = r.overall.recommendation;
  if (!anyAssessed(r)) return { label: "Not assessed", cls: "rec-none" };
  if (rec === null) return { label: "Not enough evidence", cls: "rec-none" };
  return { label: RECOMMENDATION_LABELS[rec] ?? rec, cls: `rec-${rec}` };
}

export function reportBody(r: Report): HTMLElement {
  const assessed = anyAssessed(r);
  const { label: rec, cls: recClass } = recommendationLabel(r);
  const forHiringTeam = (r.candidate_questions ?? []).filter((q) => q.for_hiring_team);
  return h(
    "div",
    { class: "stack", id: "report" },
    h(
      "section",
      { class: "card overall", "aria-labelledby": "overall-title" },
      h("h2", { id: "overall-title" }, "Overall"),
      h(
        "p",
        { class: "overall-line" },
        h("span", { class: "overall-score", id: "overall-score" }, assessed ? `${r.overall.score.toFixed(1)} / 5` : "— / 5"),
        h("span", { class: `badge ${recClass}`, id: "recommendation" }, rec),
      ),
      h(
        "p",
        {},
        assessed ? r.overall.summary : "The interview ended before any competency could be assessed, so there is no overall score.",
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "scores-title" },
      h("h2", { id: "scores-title" }, "Competencies"),
      competencyChart(r.competencies),
      h(
        "ul",
        { class: "competencies" },
        r.competencies.map((c) =>
          h(
            "li",
            { class: "competency-score", "data-competency-id": c.id },
            h("h3", {}, c.name, " ", h("span", { class: "score-text" }, c.score === null ? "— not assessed" : `— ${c.score} / 5`)),
            c.rationale ? h("p", {}, c.rationale) : null,
            c.evidence.length
              ? h(
                  "ul",
                  { class: "evidence", "aria-label": `Evidence for ${c.name}` },
                  c.evidence.map((e) => {
                    const line = evidenceLine(r, e);
                    return h(
                      "li",
                      {},
                      h("blockquote", {}, `“${e.quote}”`),
                      line === null ? null : h("a", { href: `#turn-${line}`, class: "turn-link" }, `Line ${line + 1} of the transcript`),
                    );
                  }),
                )
              : null,
          ),
        ),
      ),
    ),
    (r.not_reached ?? []).length
      ? h("section", { class: "card", "aria-labelledby": "not-reached-title" }, h("h2", { id: "not-reached-title" }, "Not assessed"),
          h("ul", { id: "not-reached" }, (r.not_reached ?? []).map((n) => h("li", {}, `${n.name}: ${n.reason}`))))
      : null,
    forHiringTeam.length
      ? h("section", { class: "card", "aria-labelledby": "questions-title" }, h("h2", { id: "questions-title" }, "Your questions for the hiring team"),
          h("ul", { id: "candidate-questions" }, forHiringTeam.map((q) => h("li", {}, q.text))))
      : null,
    h("section", { class: "card", "aria-labelledby": "strengths-title" }, h("h2", { id: "strengths-title" }, "Strengths"),
      r.strengths.length ? h("ul", { id: "strengths" }, r.strengths.map((s) => h("li", {}, s))) : h("p", { class: "hint" }, "None noted.")),
    h("section", { class: "card", "aria-labelledby": "next-title" }, h("h2", { id: "next-title" }, "Next steps"),
      r.next_steps.length ? h("ul", { id: "next-steps" }, r.next_steps.map((s) => h("li", {}, s))) : h("p", { class: "hint" }, "None noted.")),
    h(
      "section",
      { class: "card", "aria-labelledby": "full-transcript-title" },
      h("h2", { id: "full-transcript-title" }, "Full transcript"),
      h(
        "ol",
        { class: "transcript transcript-full", id: "report-transcript" },
        r.transcript.map((t, i) =>
          h("li", { id: `turn-${i}`, class: `line line-${t.speaker}`, "data-speaker": t.speaker, tabindex: -1 },
            h("span", { class: "who" }, t.speaker === "agent" ? "Interviewer" : "You"),
            h("span", { class: "line-text" }, t.text)),
        ),
      ),
    ),
  );
}

export function reportView(ctx: Ctx): View {
  const banner = errorBanner(ctx);
  const title = heading("Interview report");
  const meta = h("p", { class: "lead", id: "report-meta" });
  const body = h("div", { id: "report-body", "aria-busy": "true" }, h("p", { class: "pending", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Preparing your report… this takes a few seconds after the interview ends."));
  const actions = h(
    "div",
    { class: "actions" },
    h("button", { id: "new-interview", type: "button", class: "btn btn-primary", onclick: () => ctx.actions.newInterview() }, "Start another interview"),
    h("button", { id: "open-history", type: "button", class: "btn", onclick: () => ctx.actions.openHistory() }, "Past interviews"),
  );
  const el = h("section", { class: "screen" }, title, meta, banner.el, body, actions);
  let shown: Report | null = null;
  return {
    el,
    update(s) {
      banner.update(s.error, s.busy);
      const d = s.report?.detail;
      if (d) {
        meta.textContent = `${formatDate(d.created_at)} · ${d.duration_minutes} minutes · ${STATUS_LABELS[d.status] ?? d.status}`;
        if (!d.report && d.role_title) title.textContent = `Interview report — ${d.role_title}`;
      }
      if (s.report?.unavailable && body.dataset["state"] !== "unavailable") {
        body.dataset["state"] = "unavailable";
        body.setAttribute("aria-busy", "false");
        body.replaceChildren(
          h("p", { class: "banner banner-warn", id: "report-unavailable", role: "status" },
            "There is no report for this interview: it ended before the interviewer could assess anything."),
        );
      }
      const r = d?.report ?? null;
      if (r && r !== shown) {
        shown = r;
        title.textContent = `Interview report — ${r.role_title}`;
        body.replaceChildren(reportBody(r));
        body.setAttribute("aria-busy", "false");
      }
    },
  };
}
