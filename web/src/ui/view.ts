import type { ErrorAction, UserError } from "../errors";
import type { Event, State } from "../state";
import { h } from "../dom";

/** What views may ask the app to do (side effects live in app.ts). */
export interface Actions {
  signInGuest(): void;
  signInEmail(email: string, password: string, create: boolean): Promise<string | null>;
  signOut(): void;
  goPreflight(): void;
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

/** Error banner with the next actions; role=alert so it is announced. Re-rendered only on change. */
export function errorBanner(ctx: Ctx): { el: HTMLElement; update(e: UserError | null, busy: string | null): void } {
  const el = h("div", { id: "error-banner", class: "banner banner-error", role: "alert", hidden: true });
  let shown: UserError | null = null;
  let wasBusy = false;
  return {
    el,
    update(e, busy) {
      if (e === shown && !!busy === wasBusy) return;
      shown = e;
      wasBusy = !!busy;
      el.hidden = !e;
      el.replaceChildren();
      if (!e) {
        el.removeAttribute("data-error-code");
        return;
      }
      el.dataset["errorCode"] = e.code;
      el.append(
        h("h2", { class: "banner-title" }, e.title),
        h("p", {}, e.message),
        h(
          "div",
          { class: "actions" },
          e.actions.map((a, i) =>
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
          ),
        ),
      );
    },
  };
}

export function heading(text: string): HTMLHeadingElement {
  // tabindex=-1 so focus can move here on every screen change.
  return h("h1", { tabindex: -1, class: "screen-title" }, text);
}
