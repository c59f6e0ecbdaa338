// The app controller: owns the store, mounts screens, runs side effects (api, auth, room) and turns their
// outcomes into reducer events. All decisions about *what state we are in* live in state.ts.
import { ApiError, createApi, type Api } from "./api";
import { createAuth, type AuthClient } from "./auth";
import { h } from "./dom";
import {
  connectFailedError,
  mapAuthError,
  mapMediaError,
  networkError,
  type ErrorAction,
  type UserError,
} from "./errors";
// livekit-client is loaded on demand (its own chunk): the sign-in and setup screens do not need it.
import type { InterviewRoom } from "./room";
import { agentStatus, initialState, interviewToRejoin, reduce, type Event, type Screen, type State } from "./state";
import { buildStartRequest } from "./plan";
import { CUSTOM_ROLE, type InterviewGrant, type StartInterviewRequest } from "./types";
import { historyView } from "./ui/history";
import { interviewView } from "./ui/interview";
import { preflightView } from "./ui/preflight";
import { reportView } from "./ui/report";
import { setupView } from "./ui/setup";
import { signInView } from "./ui/signin";
import type { Actions, Ctx, View } from "./ui/view";

const TITLES: Record<Screen, string> = {
  loading: "Loading",
  signin: "Sign in",
  setup: "Choose your interview",
  preflight: "Check your microphone",
  interview: "Interview",
  report: "Report",
  history: "Past interviews",
};

const REPORT_POLL_MS = 2000;
const REPORT_POLL_MAX = 90;
const REPORT_POLL_ABANDONED = 10;
/** After hanging up on a running agent: it scores what was said, then leaves (up to its drain timeout). */
const REPORT_POLL_AFTER_HANGUP = 30;

export interface DebugHooks {
  state(): State;
  screen(): Screen;
  agentStatus(): string | null;
  transcript(): { speaker: string; text: string; final: boolean }[];
  remoteLevel(): number;
  remotePeak(): number;
  micLevel(): number;
}

export function startApp(root: HTMLElement): DebugHooks {
  let state = initialState(Date.now());
  let view: View | null = null;
  let viewScreen: Screen | null = null;
  let auth: AuthClient | null = null;
  let room: InterviewRoom | null = null;
  let lastFailed: (() => void) | null = null;
  /** Bumped when the candidate leaves (another screen, sign-out): an answer to an earlier start is dropped. */
  let startSeq = 0;
  const rejoinedByItself = new Set<string>(); // interviews rejoined once after a lost connection
  let reportPoll: { id: string; timer: number; tries: number; agentScoring: boolean } | null = null;

  const api: Api = createApi(async (force) => (auth ? auth.idToken(force) : null));

  // ---- shell ----
  const nav = h("nav", { "aria-label": "Account", class: "topnav" });
  const main = h("main", { id: "main", "data-screen": "loading" });
  const audioBox = h("div", { id: "remote-audio", hidden: true });
  root.replaceChildren(
    h("header", { class: "topbar" }, h("span", { class: "brand" }, "Interviewer"), nav),
    main,
    audioBox,
  );

  function renderNav() {
    const u = state.user;
    const busyInterview = state.screen === "interview" && !!state.session;
    nav.replaceChildren(
      ...(u && !busyInterview
        ? [
            h("button", { type: "button", class: "btn btn-link", id: "nav-history", onclick: () => actions.openHistory() }, "Past interviews"),
            h("span", { class: "who-am-i" }, u.isAnonymous ? "Guest" : (u.email ?? "Signed in")),
            h("button", { type: "button", class: "btn btn-link", id: "sign-out", onclick: () => actions.signOut() }, "Sign out"),
          ]
        : []),
    );
  }
  let navKey = "";

  const ctx: Ctx = { state: () => state, dispatch: (ev) => dispatch(ev), actions: null as unknown as Actions };

  function mount(screen: Screen): View {
    switch (screen) {
      case "signin":
        return signInView(ctx);
      case "setup":
        return setupView(ctx);
      case "preflight":
        return preflightView(ctx);
      case "interview":
        return interviewView(ctx);
      case "report":
        return reportView(ctx);
      case "history":
        return historyView(ctx);
      case "loading":
        return {
          el: h("section", { class: "screen narrow" }, h("h1", { tabindex: -1, class: "screen-title" }, "Loading…")),
          update: () => undefined,
        };
    }
  }

  function render() {
    if (state.screen !== viewScreen) {
      view?.destroy?.();
      viewScreen = state.screen;
      view = mount(state.screen);
      main.dataset["screen"] = state.screen;
      main.replaceChildren(view.el);
      view.update(state);
      document.title = `${TITLES[state.screen]} · Interviewer`;
      main.querySelector<HTMLElement>(".screen-title")?.focus();
      onScreenEntered(state.screen);
    } else {
      view?.update(state);
    }
    const k = `${state.user?.uid ?? ""}|${state.screen}|${!!state.session}`;
    if (k !== navKey) {
      navKey = k;
      renderNav();
    }
  }

  function dispatch(ev: Event) {
    const prev = state;
    state = reduce(state, ev);
    if (state === prev) return;
    render();
    afterTransition(prev, state);
  }

  // ---- effects that follow state transitions ----
  function afterTransition(prev: State, next: State) {
    // Agent did not join: leave the room and end the interview at once, so a late agent never talks to
    // nobody. "Try again" then starts a new interview in a fresh room.
    if (next.error?.code === "agent_timeout" && prev.error?.code !== "agent_timeout" && next.session) {
      const id = next.session.interviewId;
      void dropRoom();
      api.end(id).catch(() => undefined);
    }
    if ((prev.screen !== next.screen && next.screen !== "interview") || prev.user?.uid !== next.user?.uid) startSeq++;
    const lost = interviewToRejoin(prev, next, rejoinedByItself);
    if (lost) {
      rejoinedByItself.add(lost);
      void rejoin(lost);
    }
    // The wait for a free interviewer ran out: ask again for the same interview.
    if (next.startRetry?.status === "due" && prev.startRetry?.status !== "due") void startInterview();
  }

  function onScreenEntered(screen: Screen) {
    if (screen === "history") {
      api
        .list()
        .then((l) => dispatch({ type: "history_loaded", interviews: l }))
        .catch((e) => fail(e, () => onScreenEntered("history")));
    }
    if (screen === "report") pollReport();
    if (screen !== "report" && reportPoll) {
      clearTimeout(reportPoll.timer);
      reportPoll = null;
    }
  }

  function pollReport() {
    const r = state.report;
    if (!r) return;
    if (reportPoll?.id === r.interviewId) return;
    if (reportPoll) clearTimeout(reportPoll.timer);
    const poll = { id: r.interviewId, timer: 0, tries: 0, agentScoring: r.agentScoring === true };
    reportPoll = poll;
    const once = async () => {
      if (reportPoll !== poll) return;
      try {
        const d = await api.get(poll.id);
        if (reportPoll !== poll) return;
        dispatch({ type: "report_loaded", detail: d });
        poll.tries++;
        // An abandoned interview may still get a scorecard for what was covered: give it a short while, or
        // the agent's scoring time when we just hung up on it (the api marks it abandoned at once).
        const abandonedLimit = poll.agentScoring ? REPORT_POLL_AFTER_HANGUP : REPORT_POLL_ABANDONED;
        const limit = d.status === "abandoned" ? abandonedLimit : REPORT_POLL_MAX;
        if (d.report === null && poll.tries < limit) {
          poll.timer = window.setTimeout(once, REPORT_POLL_MS);
        } else {
          reportPoll = null;
          if (d.report === null) dispatch({ type: "report_unavailable", interviewId: poll.id });
        }
      } catch (e) {
        if (reportPoll === poll) reportPoll = null;
        fail(e, () => pollReport());
      }
    };
    void once();
  }

  function fail(e: unknown, retry: (() => void) | null) {
    lastFailed = retry;
    const err: UserError = e instanceof ApiError ? e.userError : networkError();
    if (!(e instanceof ApiError)) console.error(e);
    dispatch({ type: "error", error: err });
  }

  async function dropRoom() {
    const r = room;
    room = null;
    if (r) await r.disconnect(true).catch(() => undefined);
  }

  function roleTitle(roleId: string): string {
    if (roleId === CUSTOM_ROLE) return "Custom role";
    return state.roles?.find((r) => r.id === roleId)?.title ?? roleId;
  }

  async function join(grant: InterviewGrant, title: string, durationMinutes: number) {
    await dropRoom();
    dispatch({ type: "interview_granted", grant, roleTitle: title, durationMinutes });
    const { InterviewRoom: RoomImpl } = await import("./room");
    const r = new RoomImpl(dispatch, audioBox);
    room = r;
    try {
      await r.connect(grant);
    } catch (e) {
      console.error("room connect failed", e);
      if (room === r) await dropRoom();
      lastFailed = null;
      dispatch({ type: "error", error: connectFailedError() });
      return;
    }
    await publishMic(r);
  }

  async function publishMic(r: InterviewRoom) {
    try {
      await r.publishMicrophone(state.micDeviceId);
    } catch (e) {
      if (room !== r) return;
      const err = mapMediaError(e);
      // In the room, "back" means: end this interview.
      dispatch({ type: "error", error: { ...err, actions: ["retry_mic", "end_active"], interviewId: state.session?.interviewId ?? "" } });
    }
  }

  async function startInterview() {
    const s = state.setup;
    const body: StartInterviewRequest = buildStartRequest(s);
    const seq = ++startSeq;
    dispatch({ type: "start_requested" });
    let grant: InterviewGrant;
    try {
      grant = await api.startInterview(body);
    } catch (e) {
      if (seq !== startSeq) return; // the candidate left meanwhile: nothing to show
      if (e instanceof ApiError && e.userError.code === "busy") {
        // No room: wait (the reducer counts and bounds the retries), then ask again.
        lastFailed = () => void startInterview();
        dispatch({ type: "start_busy", error: e.userError, now: Date.now() });
        return;
      }
      return fail(e, () => void startInterview());
    }
    if (seq !== startSeq) {
      // Granted after the candidate left (back, sign-out): end it, so no agent waits in an empty room.
      api.end(grant.interview_id).catch(() => undefined);
      return;
    }
    try {
      await join(grant, roleTitle(s.role), s.duration);
    } catch (e) {
      fail(e, () => void startInterview());
    }
  }

  async function rejoin(id: string) {
    dispatch({ type: "busy", what: "rejoining" });
    try {
      const grant = await api.rejoin(id);
      const known = state.session?.interviewId === id ? state.session : null;
      let title = known?.roleTitle;
      let minutes = known?.durationMinutes;
      if (!title || !minutes) {
        const d = await api.get(id).catch(() => null);
        title = d ? (d.role_title ?? roleTitle(d.role)) : roleTitle(state.setup.role);
        minutes = d?.duration_minutes ?? state.setup.duration;
      }
      await join(grant, title, minutes);
    } catch (e) {
      fail(e, () => void rejoin(id));
    }
  }

  async function endOther(id: string) {
    dispatch({ type: "busy", what: "ending" });
    try {
      await api.end(id);
    } catch (e) {
      if (!(e instanceof ApiError && (e.status === 404 || e.status === 409))) return fail(e, () => void endOther(id));
    }
    if (state.session?.interviewId === id) {
      await dropRoom();
      dispatch({ type: "session_closed" });
    }
    dispatch({ type: "error", error: null });
    dispatch({ type: "busy", what: null });
    if (state.screen === "interview") dispatch({ type: "navigate", screen: "setup" });
  }

  const actions: Actions = {
    signInGuest() {
      if (!auth) return;
      dispatch({ type: "busy", what: "signing_in" });
      auth.signInGuest().then(
        () => dispatch({ type: "busy", what: null }),
        (e) => {
          console.error(e);
          dispatch({ type: "busy", what: null });
          dispatch({ type: "error", error: { code: "auth_failed", title: "Could not sign in as a guest", message: "The sign-in service did not answer. Try again in a moment.", actions: [] } });
        },
      );
    },
    async signInEmail(email, password, create) {
      if (!auth) return "Sign-in is not ready yet.";
      dispatch({ type: "busy", what: "signing_in" });
      try {
        if (create) await auth.createAccount(email, password);
        else await auth.signInEmail(email, password);
        dispatch({ type: "busy", what: null });
        return null;
      } catch (e) {
        dispatch({ type: "busy", what: null });
        return mapAuthError(e);
      }
    },
    signOut() {
      void (async () => {
        if (state.session) {
          const id = state.session.interviewId;
          await dropRoom();
          api.end(id).catch(() => undefined);
        }
        await auth?.signOut();
      })();
    },
    goPreflight() {
      dispatch({ type: "navigate", screen: "preflight" });
    },
    async previewPlan(role, jobDescription) {
      // The choice is optional: without a preview the interview covers the plan's own competencies.
      try {
        return await api.previewPlan(role, jobDescription);
      } catch {
        return null;
      }
    },
    startInterview() {
      void startInterview();
    },
    endInterview() {
      const s = state.session;
      if (!s || s.ending) return;
      dispatch({ type: "end_requested" });
      void (async () => {
        // Ask the api to end (the agent scores and closes); leaving the room also ends it (candidate hang-up).
        await api.end(s.interviewId).catch((e) => console.warn("end failed", e));
        const r = room;
        room = null;
        if (r) await r.disconnect(false).catch(() => undefined);
        // If the room was already gone, make sure we still land on the report.
        if (state.screen === "interview") dispatch({ type: "room_disconnected", roomDeleted: true });
      })();
    },
    toggleMute() {
      const s = state.session;
      if (room && s) void room.setMuted(!s.muted);
    },
    startAudio() {
      void room?.startAudio();
    },
    rejoin(id) {
      void rejoin(id);
    },
    openReport(id) {
      dispatch({ type: "open_report", interviewId: id });
    },
    openHistory() {
      dispatch({ type: "navigate", screen: "history" });
    },
    newInterview() {
      void dropRoom();
      dispatch({ type: "session_closed" });
      dispatch({ type: "navigate", screen: "setup" });
    },
    errorAction(a: ErrorAction, err: UserError) {
      if (view?.onAction?.(a)) return;
      switch (a) {
        case "sign_in":
          void actions.signOut();
          return;
        case "retry_mic":
          dispatch({ type: "error", error: null });
          if (room) void publishMic(room);
          return;
        case "rejoin":
          if (err.interviewId) void rejoin(err.interviewId);
          return;
        case "end_active":
          if (err.interviewId) void endOther(err.interviewId);
          return;
        case "try_again": {
          const old = state.session?.interviewId;
          void (async () => {
            await dropRoom();
            // Never a second agent in the old room: end it, then start over in a fresh one.
            if (old) await api.end(old).catch(() => undefined);
            dispatch({ type: "session_closed" });
            await startInterview();
          })();
          return;
        }
        case "retry": {
          // While waiting for a free interviewer: ask now, keeping the busy message and the count.
          if (state.startRetry) {
            void startInterview();
            return;
          }
          const f = lastFailed;
          dispatch({ type: "error", error: null });
          f?.();
          return;
        }
        case "back": {
          const id = state.session?.interviewId;
          void dropRoom();
          if (id && state.screen === "interview") api.end(id).catch(() => undefined);
          dispatch({ type: "session_closed" });
          dispatch({ type: "navigate", screen: "setup" });
          return;
        }
      }
    },
    remoteLevel: () => room?.remoteLevel() ?? 0,
  };
  ctx.actions = actions;

  // ---- boot ----
  render();
  window.setInterval(() => dispatch({ type: "tick", now: Date.now() }), 500);

  async function loadRoles() {
    try {
      dispatch({ type: "roles_loaded", roles: await api.roles() });
    } catch (e) {
      fail(e, () => void loadRoles());
    }
  }

  (async () => {
    try {
      const config = await api.config();
      dispatch({ type: "config_loaded", config });
      auth = createAuth(config.firebase);
      auth.onChange((user) => dispatch({ type: "auth_changed", user }));
      void loadRoles();
    } catch (e) {
      console.error("config failed", e);
      main.replaceChildren(
        h(
          "section",
          { class: "screen narrow" },
          h("h1", { tabindex: -1, class: "screen-title" }, "Interviewer is unavailable"),
          h("div", { class: "banner banner-error", role: "alert", id: "error-banner", "data-error-code": "network" },
            h("p", {}, "We could not load the app's settings. Check your connection and try again."),
            h("button", { type: "button", class: "btn btn-primary", onclick: () => location.reload() }, "Reload")),
        ),
      );
      main.querySelector<HTMLElement>(".screen-title")?.focus();
    }
  })();

  return {
    state: () => state,
    screen: () => state.screen,
    agentStatus: () => (state.session ? agentStatus(state.session).key : null),
    transcript: () => (state.session?.transcript.segments ?? []).map((s) => ({ speaker: s.speaker, text: s.text, final: s.final })),
    remoteLevel: () => room?.remoteLevel() ?? 0,
    remotePeak: () => room?.remotePeak() ?? 0,
    micLevel: () => room?.micLevel() ?? 0,
  };
}
