import { meterFraction } from "../audio";
import { h, setText } from "../dom";
import {
  agentStatus,
  interviewEndsAt,
  PHASE_LABELS,
  questionBudgetMs,
  startRetryCountdown,
  type Session,
  type State,
} from "../state";
import { formatClock, remainingMs, spokenDuration, usedFraction } from "../time";
import type { Segment } from "../transcript";
import { errorBanner, heading, type Ctx, type View } from "./view";

function budget(id: string, label: string) {
  const value = h("span", { class: "budget-value", "aria-hidden": "true" }, "–:––");
  const sr = h("span", { class: "sr-only" }, "");
  const fill = h("div", { class: "budget-fill" });
  const el = h(
    "div",
    { class: "budget", id },
    h("div", { class: "budget-head" }, h("span", { class: "budget-label" }, label), value, sr),
    h("div", { class: "budget-bar", "aria-hidden": "true" }, fill),
  );
  return {
    el,
    set(remaining: number | null, total: number | null, note = "") {
      el.hidden = remaining === null;
      if (remaining === null) return;
      setText(value, formatClock(remaining) + note);
      setText(sr, `${spokenDuration(remaining)} left`);
      fill.style.width = `${Math.round((1 - usedFraction(remaining, total)) * 100)}%`;
      el.classList.toggle("budget-low", total !== null && remaining < Math.min(60_000, total * 0.15));
      el.dataset["remainingMs"] = String(remaining);
    },
  };
}

export function interviewView(ctx: Ctx): View {
  const banner = errorBanner(ctx);
  const title = heading("Interview");
  const statusDot = h("span", { class: "status-dot", "aria-hidden": "true" });
  const statusLabel = h("span", { id: "agent-status-label" }, "Connecting…");
  const status = h(
    "div",
    { id: "agent-status", class: "agent-status", role: "status", "aria-live": "polite", "data-status": "connecting" },
    statusDot,
    statusLabel,
  );
  const phase = h("span", { id: "phase", class: "chip", hidden: true });
  const voiceFill = h("div", { class: "meter-fill" });
  const voice = h(
    "div",
    { class: "voice", "aria-hidden": "true" },
    h("span", { class: "budget-label" }, "Interviewer's voice"),
    h("div", { id: "agent-voice", class: "meter meter-voice" }, voiceFill),
  );
  const reconnecting = h(
    "div",
    { id: "reconnecting", class: "banner banner-warn", role: "status", hidden: true },
    "Reconnecting… hold on, your interview continues as soon as the connection is back.",
  );
  const audioBlocked = h(
    "div",
    { class: "banner banner-warn", hidden: true },
    h("p", {}, "Your browser blocked the interviewer's audio."),
    h("button", { id: "enable-audio", type: "button", class: "btn btn-primary", onclick: () => ctx.actions.startAudio() }, "Enable audio"),
  );
  const overall = budget("interview-budget", "Interview time left");
  const qBudget = budget("question-budget", "Time for this question");
  const question = h("p", { id: "current-question", class: "question" });
  const questionCard = h(
    "section",
    { class: "card question-card", "aria-labelledby": "current-question-title", hidden: true },
    h("h2", { id: "current-question-title", class: "small-title" }, "Current question"),
    question,
    qBudget.el,
  );

  const mute = h("button", { id: "mute", type: "button", class: "btn", "aria-pressed": "false", onclick: () => ctx.actions.toggleMute() }, "Mute");
  const end = h("button", { id: "end-interview", type: "button", class: "btn btn-danger" }, "End interview");
  const confirmEnd = h("button", { id: "confirm-end", type: "button", class: "btn btn-danger", onclick: () => ctx.actions.endInterview() }, "Yes, end now");
  const keepGoing = h("button", { type: "button", class: "btn", onclick: () => showConfirm(false) }, "Keep going");
  const confirmBox = h(
    "div",
    { class: "confirm", role: "group", "aria-labelledby": "confirm-end-text", hidden: true },
    h("p", { id: "confirm-end-text" }, "End the interview now? You will get a report for what was covered."),
    h("div", { class: "actions" }, confirmEnd, keepGoing),
  );
  function showConfirm(on: boolean) {
    confirmBox.hidden = !on;
    end.hidden = on;
    (on ? confirmEnd : end).focus();
  }
  end.addEventListener("click", () => showConfirm(true));

  const transcript = h("ol", {
    id: "transcript",
    class: "transcript",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-labelledby": "transcript-title",
    tabindex: 0,
  });
  const emptyHint = h("p", { class: "hint", id: "transcript-empty" }, "What you and the interviewer say appears here.");

  const el = h(
    "section",
    { class: "screen interview" },
    title,
    banner.el,
    reconnecting,
    audioBlocked,
    h(
      "div",
      { class: "interview-grid" },
      h(
        "div",
        { class: "stack" },
        h("section", { class: "card stack", "aria-label": "Interviewer" }, h("div", { class: "status-row" }, status, phase), voice, overall.el),
        questionCard,
        h("div", { class: "card controls" }, h("div", { class: "actions" }, mute, end), confirmBox),
      ),
      h(
        "section",
        { class: "card transcript-card", "aria-labelledby": "transcript-title" },
        h("h2", { id: "transcript-title", class: "small-title" }, "Live transcript"),
        emptyHint,
        transcript,
      ),
    ),
  );

  // --- transcript rendering: one <li> per segment, updated in place ---
  const items = new Map<string, { li: HTMLLIElement; text: HTMLSpanElement; final: boolean }>();
  let renderedSegments: Segment[] | null = null;
  function renderTranscript(segments: Segment[]) {
    if (segments === renderedSegments) return;
    renderedSegments = segments;
    const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
    const ids = new Set(segments.map((s) => s.id));
    for (const [id, it] of items) if (!ids.has(id)) { it.li.remove(); items.delete(id); }
    for (const seg of segments) {
      let it = items.get(seg.id);
      if (!it) {
        const text = h("span", { class: "line-text" });
        const li = h(
          "li",
          { class: `line line-${seg.speaker}`, "data-speaker": seg.speaker, "data-segment-id": seg.id },
          h("span", { class: "who" }, seg.speaker === "agent" ? "Interviewer" : "You"),
          text,
        );
        transcript.append(li);
        it = { li, text, final: false };
        items.set(seg.id, it);
      }
      if (it.final !== seg.final || it.text.textContent !== seg.text) {
        if (seg.final && !it.final) {
          // Replace the node so the live region (aria-relevant=additions) announces the final line once.
          const text = h("span", { class: "line-text" }, seg.text);
          it.text.replaceWith(text);
          it.text = text;
        } else {
          setText(it.text, seg.text);
        }
        it.final = seg.final;
        it.text.setAttribute("aria-hidden", seg.final ? "false" : "true");
        it.li.dataset["final"] = String(seg.final);
        it.li.classList.toggle("interim", !seg.final);
      }
    }
    emptyHint.hidden = segments.length > 0;
    if (nearBottom) transcript.scrollTop = transcript.scrollHeight;
  }

  let raf = 0;
  const animate = () => {
    voiceFill.style.width = `${Math.round(meterFraction(ctx.actions.remoteLevel()) * 100)}%`;
    raf = requestAnimationFrame(animate);
  };
  raf = requestAnimationFrame(animate);

  function renderSession(s: Session, st: State) {
    setText(title, `Interview — ${s.roleTitle}`);
    const as = agentStatus(s);
    status.dataset["status"] = as.key;
    setText(statusLabel, as.label);
    phase.hidden = !s.phase;
    if (s.phase) setText(phase, PHASE_LABELS[s.phase]);
    phase.dataset["phase"] = s.phase ?? "";
    reconnecting.hidden = s.connection !== "reconnecting";
    audioBlocked.hidden = !s.audioBlocked;

    const ends = interviewEndsAt(s);
    const over = s.connection === "disconnected";
    overall.set(over ? null : remainingMs(ends.at, st.now), s.durationMinutes * 60_000, ends.estimated ? " (approx.)" : "");
    questionCard.hidden = !s.question;
    setText(question, s.question ?? "");
    qBudget.set(remainingMs(s.questionEndsAt, st.now), questionBudgetMs(s));

    setText(mute, s.muted ? "Unmute" : "Mute");
    mute.setAttribute("aria-pressed", String(s.muted));
    const live = s.connection === "connected" || s.connection === "reconnecting";
    mute.disabled = !live || s.ending;
    end.disabled = s.ending || over;
    confirmEnd.disabled = s.ending;
    if (s.ending) setText(confirmEnd, "Ending…");
    renderTranscript(s.transcript.segments);
  }

  return {
    el,
    update(st) {
      // startRetryCountdown: "Try again" after the agent did not join may find every interviewer busy.
      banner.update(st.error, st.busy, startRetryCountdown(st));
      if (st.session) renderSession(st.session, st);
    },
    destroy() {
      cancelAnimationFrame(raf);
    },
  };
}
