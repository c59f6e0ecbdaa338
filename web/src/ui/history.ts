import { formatDate, h } from "../dom";
import { STATUS_LABELS, type InterviewSummary } from "../types";
import { errorBanner, heading, type Ctx, type View } from "./view";

export function historyView(ctx: Ctx): View {
  const banner = errorBanner(ctx);
  const list = h("div", { id: "history-list", "aria-busy": "true" }, h("p", { class: "hint", role: "status" }, "Loading…"));
  const el = h(
    "section",
    { class: "screen" },
    heading("Past interviews"),
    banner.el,
    list,
    h("div", { class: "actions" }, h("button", { type: "button", class: "btn btn-primary", onclick: () => ctx.actions.newInterview() }, "Start a new interview")),
  );
  let shown: InterviewSummary[] | null = null;
  return {
    el,
    update(s) {
      banner.update(s.error, s.busy);
      if (!s.history || s.history === shown) return;
      shown = s.history;
      list.setAttribute("aria-busy", "false");
      if (!s.history.length) {
        list.replaceChildren(h("p", { class: "hint" }, "No interviews yet."));
        return;
      }
      list.replaceChildren(
        h(
          "ul",
          { class: "history" },
          s.history.map((iv) =>
            h(
              "li",
              { class: "card history-item", "data-interview-id": iv.interview_id },
              h("div", {}, h("h2", { class: "small-title" }, iv.role_title ?? iv.role), h("p", { class: "hint" }, `${formatDate(iv.created_at)} · ${iv.duration_minutes} min · ${STATUS_LABELS[iv.status] ?? iv.status}`)),
              iv.status === "live" || iv.status === "created"
                ? h(
                    "button",
                    { type: "button", class: "btn btn-primary", "aria-label": `Rejoin: ${iv.role_title ?? iv.role}, ${formatDate(iv.created_at)}`, onclick: () => ctx.actions.rejoin(iv.interview_id) },
                    "Rejoin",
                  )
                : h(
                    "button",
                    { type: "button", class: "btn", "aria-label": `Open report: ${iv.role_title ?? iv.role}, ${formatDate(iv.created_at)}`, onclick: () => ctx.actions.openReport(iv.interview_id) },
                    "Open report",
                  ),
            ),
          ),
        ),
      );
    },
  };
}
