import type { ErrorAction, UserError } from "../errors";
import type { Event, StartRetryCountdown, State } from "../state";
import { h, setText } from "../dom";
import type { PlanPreview } from "../types";

/** What views may ask the app to do (side effects live in app.ts). */
export interface Actions {
  signInGuest(): void;
  signInEmail(email: string, password: string, create: boolean): Promise<string | null>;
  signOut(): void;
  goPreflight(): void;
  /** The plan's competencies and the addable ones; null when the preview is not available. */
  previewPlan(role: string, jobDescription: string): Promise<PlanPreview | null>;
  startInterview(): void;
  endInterview(): void;
  toggleMute(): void;
  startAudio(): void;
  openReport(id: string): void;
  rejoin(id: string): void;
  openHistory(): void;
  newInterview(): void;
  errorAction(action: ErrorAction, error: UserError): void;
  /** Live levels for meters, 0..1 RMS. */
  remoteLevel(): number;
}

export interface Ctx {
  state(): State;
  dispatch(ev: Event): void;
  actions: Actions;
}

export interface View {
  el: HTMLElement;
  update(s: State): void;
  destroy?(): void;
  /** Handle an error action locally (e.g. retry_mic on the pre-flight screen); true when handled. */
  onAction?(a: ErrorAction): boolean;
}

const ACTION_LABELS: Record<ErrorAction, string> = {
  sign_in: "Sign in again",
  retry_mic: "Try the microphone again",
  rejoin: "Rejoin interview",
  end_active: "End that interview",
  try_again: "Try again",
  retry: "Try again",
  back: "Back to setup",
};

function countdownText(c: StartRetryCountdown): string {
  const of = `attempt ${c.attempt} of ${c.maxAttempts}`;
  if (c.trying) return `Trying again now… (${of})`;
  return `Trying again in ${c.remainingSeconds} s (${of})`;
}

/** Error banner with the next actions; role=alert so it is announced. Re-rendered only on change; the
 *  countdown to the next automatic try (busy) is updated in place and hidden from screen readers, which
 *  would otherwise announce every second (the message itself says when the next try comes). */
export function errorBanner(ctx: Ctx): {
  el: HTMLElement;
  update(e: UserError | null, busy: string | null, countdown?: StartRetryCountdown | null): void;
} {
  const el = h("div", { id: "error-banner", class: "banner banner-error", role: "alert", hidden: true });
  const countdownEl = h("p", { id: "busy-countdown", class: "countdown", "aria-hidden": "true", hidden: true });
  let shownKey = "";
  let buttons: HTMLButtonElement[] = [];
  // Same words, same buttons: no rebuild, so the alert is not announced again on every automatic retry.
  const keyOf = (e: UserError | null) =>
    e ? [e.code, e.title, e.message, e.actions.join(","), e.interviewId ?? ""].join("|") : "";
  return {
    el,
    update(e, busy, countdown = null) {
      countdownEl.hidden = !countdown || !e;
      if (countdown && e) {
        setText(countdownEl, countdownText(countdown));
        countdownEl.dataset["remainingS"] = String(countdown.remainingSeconds);
        countdownEl.dataset["attempt"] = String(countdown.attempt);
        countdownEl.dataset["trying"] = String(countdown.trying);
      }
      const key = keyOf(e);
      if (key === shownKey) {
        for (const b of buttons) b.disabled = !!busy;
        return;
      }
      shownKey = key;
      el.hidden = !e;
      el.replaceChildren();
      buttons = [];
      if (!e) {
        el.removeAttribute("data-error-code");
        return;
      }
      el.dataset["errorCode"] = e.code;
      // Busy is a wait, not a failure: the calmer colour.
      el.classList.toggle("banner-error", e.code !== "busy");
      el.classList.toggle("banner-warn", e.code === "busy");
      buttons = e.actions.map((a, i) =>
        h(
          "button",
          {
            type: "button",
            class: i === 0 ? "btn btn-primary" : "btn",
            "data-action": a,
            disabled: !!busy,
            onclick: () => ctx.actions.errorAction(a, e),
          },
          ACTION_LABELS[a],
        ),
      );
      el.append(
        h("h2", { class: "banner-title" }, e.title),
        h("p", {}, e.message),
        countdownEl,
        h("div", { class: "actions" }, buttons),
      );
    },
  };
}

export function heading(text: string): HTMLHeadingElement {
  // tabindex=-1 so focus can move here on every screen change.
  return h("h1", { tabindex: -1, class: "screen-title" }, text);
}
