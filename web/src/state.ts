// The UI state machine: a pure reducer from events to state. No DOM, no network, no clock reads:
// time comes in through events (`now`), so every transition is unit-testable.
import {
  agentTimeoutError,
  BUSY_WAIT_DEFAULT_S,
  busyGaveUpError,
  connectionLostError,
  type UserError,
} from "./errors";
import { emptyTranscript, mergeSegment, type SegmentUpdate, type TranscriptState } from "./transcript";
import { DURATION_DEFAULT } from "./time";
import type { InterviewDetail, InterviewGrant, InterviewSummary, Role, RuntimeConfig } from "./types";

export type Screen = "loading" | "signin" | "setup" | "preflight" | "interview" | "report" | "history";
export type AgentState = "initializing" | "listening" | "thinking" | "speaking";
export type Phase = "greeting" | "warmup" | "core" | "candidate_questions" | "closing" | "ended";
export type Connection = "connecting" | "connected" | "reconnecting" | "disconnected";

export const DEFAULT_AGENT_JOIN_TIMEOUT_S = 20;
/** How many times the client asks again, on its own, after "every interviewer is busy", before it stops and
 *  leaves the choice to the candidate. */
export const BUSY_MAX_RETRIES = 10;

export interface User {
  uid: string;
  isAnonymous: boolean;
  email: string | null;
}

export interface SetupForm {
  /** Role id, or "" when the candidate pastes a job description instead. */
  role: string;
  jobDescription: string;
  duration: number;
  /** Competency ids the candidate chose from the plan preview, in order; null: the plan's own. */
  competencies: string[] | null;
}

export interface Session {
  interviewId: string;
  roleTitle: string;
  durationMinutes: number;
  connection: Connection;
  /** When the room connection was established (ms); the agent-join timer runs from here. */
  connectedAt: number | null;
  agentJoined: boolean;
  agentState: AgentState | null;
  phase: Phase | null;
  endsAt: string | null;
  question: string | null;
  questionEndsAt: string | null;
  /** When the current question appeared (ms), to size the question budget bar. */
  questionStartedAt: number | null;
  muted: boolean;
  audioBlocked: boolean;
  /** The candidate pressed "End interview"; a disconnect after this is expected. */
  ending: boolean;
  /** The agent did not join in time; this room was abandoned. */
  agentTimedOut: boolean;
  transcript: TranscriptState;
}

export interface ReportView {
  interviewId: string;
  detail: InterviewDetail | null;
  /** Still waiting for the scorecard (report: null while the agent scores). */
  pending: boolean;
  /** We stopped waiting: no report will come (ended before anything was assessed, or scoring timed out). */
  unavailable?: boolean;
  /** This client just left an interview the agent was running: the agent scores it after the hang-up, so
   *  an "abandoned" status is no sign that no report will come. */
  agentScoring?: boolean;
}

/** Waiting out "every interviewer is busy" before asking for the same interview again. */
export interface StartRetry {
  /** Busy answers in a row for this start (1 after the first). */
  busyAnswers: number;
  /** waiting: counting down to `retryAt`; due: the countdown ran out and the app should ask again now;
   *  retrying: that request is in flight. */
  status: "waiting" | "due" | "retrying";
  /** When (ms) the next request is due. */
  retryAt: number;
}

export interface State {
  screen: Screen;
  now: number;
  config: RuntimeConfig | null;
  user: User | null;
  roles: Role[] | null;
  setup: SetupForm;
  /** Selected microphone (deviceId), chosen in the pre-flight check. */
  micDeviceId: string | null;
  session: Session | null;
  report: ReportView | null;
  history: InterviewSummary[] | null;
  /** What the app is doing right now (disables buttons, shows progress), or null. */
  busy: string | null;
  error: UserError | null;
  /** Set while the start of an interview waits for a free interviewer; null otherwise. */
  startRetry: StartRetry | null;
}

export type Event =
  | { type: "config_loaded"; config: RuntimeConfig }
  | { type: "auth_changed"; user: User | null }
  | { type: "roles_loaded"; roles: Role[] }
  | { type: "navigate"; screen: Screen }
  | { type: "setup_changed"; patch: Partial<SetupForm> }
  | { type: "mic_selected"; deviceId: string | null }
  | { type: "busy"; what: string | null }
  | { type: "error"; error: UserError | null }
  | { type: "start_requested" }
  | { type: "start_busy"; error: UserError; now: number }
  | { type: "interview_granted"; grant: InterviewGrant; roleTitle: string; durationMinutes: number }
  | { type: "room_connected"; now: number }
  | { type: "room_reconnecting" }
  | { type: "room_reconnected" }
  | { type: "room_disconnected"; roomDeleted: boolean }
  | { type: "agent_joined" }
  | { type: "agent_left" }
  | { type: "agent_attributes"; attributes: Record<string, string>; now: number }
  | { type: "transcript"; update: SegmentUpdate }
  | { type: "muted"; muted: boolean }
  | { type: "audio_blocked"; blocked: boolean }
  | { type: "end_requested" }
  | { type: "session_closed" }
  | { type: "open_report"; interviewId: string }
  | { type: "report_loaded"; detail: InterviewDetail }
  | { type: "report_unavailable"; interviewId: string }
  | { type: "history_loaded"; interviews: InterviewSummary[] }
  | { type: "tick"; now: number };

export function initialState(now: number): State {
  return {
    screen: "loading",
    now,
    config: null,
    user: null,
    roles: null,
    setup: { role: "backend-engineer", jobDescription: "", duration: DURATION_DEFAULT, competencies: null },
    micDeviceId: null,
    session: null,
    report: null,
    history: null,
    busy: null,
    error: null,
    startRetry: null,
  };
}

const AGENT_STATES: readonly string[] = ["initializing", "listening", "thinking", "speaking"];
const PHASES: readonly string[] = ["greeting", "warmup", "core", "candidate_questions", "closing", "ended"];

export function agentJoinTimeoutSeconds(state: State): number {
  const t = state.config?.agentJoinTimeoutSeconds;
  return typeof t === "number" && t > 0 ? t : DEFAULT_AGENT_JOIN_TIMEOUT_S;
}

function patchSession(state: State, patch: Partial<Session>): State {
  if (!state.session) return state;
  return { ...state, session: { ...state.session, ...patch } };
}

export function reduce(state: State, ev: Event): State {
  switch (ev.type) {
    case "config_loaded":
      return { ...state, config: ev.config };

    case "auth_changed": {
      if (!ev.user) {
        // Signed out (or the token is gone): everything user-specific goes with it.
        return {
          ...state,
          user: null,
          screen: "signin",
          session: null,
          report: null,
          history: null,
          busy: null,
          startRetry: null,
        };
      }
      const screen = state.screen === "loading" || state.screen === "signin" ? "setup" : state.screen;
      // A sign-in clears an auth error that sent the person here.
      const error = state.error?.code === "auth_expired" || state.error?.code === "auth_failed" ? null : state.error;
      return { ...state, user: ev.user, screen, error };
    }

    case "roles_loaded":
      return { ...state, roles: ev.roles };

    case "navigate":
      if (ev.screen === state.screen) return state;
      // Leaving the screen cancels a wait for a free interviewer (the candidate's "back").
      return { ...state, screen: ev.screen, error: null, busy: null, startRetry: null };

    case "setup_changed": {
      const setup = { ...state.setup, ...ev.patch };
      // A choice of competencies belongs to one plan: another role or description gets its own preview.
      const samePlan =
        setup.role === state.setup.role && setup.jobDescription.trim() === state.setup.jobDescription.trim();
      if (!samePlan && ev.patch.competencies === undefined) setup.competencies = null;
      return { ...state, setup };
    }

    case "mic_selected":
      return { ...state, micDeviceId: ev.deviceId };

    case "busy":
      return { ...state, busy: ev.what };

    case "error":
      // Any other failure ends a wait for a free interviewer: the person sees that error and its buttons.
      return {
        ...state,
        error: ev.error,
        busy: ev.error ? null : state.busy,
        startRetry: ev.error ? null : state.startRetry,
      };

    case "start_requested": {
      const r = state.startRetry;
      // A request while waiting for a free interviewer (the countdown ran out, or "Try again" now) counts
      // against the same bound and keeps the busy message on screen until the answer comes.
      if (r) return { ...state, busy: "starting", startRetry: { ...r, status: "retrying" } };
      return { ...state, busy: "starting", error: null };
    }

    case "start_busy": {
      const busyAnswers = (state.startRetry?.busyAnswers ?? 0) + 1;
      if (busyAnswers > BUSY_MAX_RETRIES) {
        return { ...state, busy: null, error: busyGaveUpError(BUSY_MAX_RETRIES), startRetry: null };
      }
      const waitS = ev.error.retryAfterSeconds ?? BUSY_WAIT_DEFAULT_S;
      return {
        ...state,
        // The countdown runs from this moment, not from the last tick.
        now: ev.now,
        busy: null,
        error: ev.error,
        startRetry: { busyAnswers, status: "waiting", retryAt: ev.now + waitS * 1000 },
      };
    }

    case "interview_granted":
      return {
        ...state,
        screen: "interview",
        busy: null,
        error: null,
        startRetry: null,
        session: {
          interviewId: ev.grant.interview_id,
          roleTitle: ev.roleTitle,
          durationMinutes: ev.durationMinutes,
          connection: "connecting",
          connectedAt: null,
          agentJoined: false,
          agentState: null,
          phase: null,
          endsAt: null,
          question: null,
          questionEndsAt: null,
          questionStartedAt: null,
          muted: false,
          audioBlocked: false,
          ending: false,
          agentTimedOut: false,
          // A rejoin keeps what was already said on screen.
          transcript:
            state.session?.interviewId === ev.grant.interview_id ? state.session.transcript : emptyTranscript,
        },
      };

    case "room_connected":
      return patchSession(state, { connection: "connected", connectedAt: ev.now });

    case "room_reconnecting":
      return patchSession(state, { connection: "reconnecting" });

    case "room_reconnected":
      return patchSession(state, { connection: "connected" });

    case "room_disconnected": {
      const s = state.session;
      if (!s) return state;
      const finished = s.ending || s.phase === "ended" || ev.roomDeleted;
      if (finished) {
        return {
          ...state,
          session: { ...s, connection: "disconnected" },
          screen: "report",
          report: { interviewId: s.interviewId, detail: null, pending: true, agentScoring: s.agentState !== null },
          error: null,
          busy: null,
        };
      }
      // The agent-timeout path disconnects on purpose; keep that error, not "connection lost".
      if (state.error?.code === "agent_timeout") return { ...state, session: { ...s, connection: "disconnected" } };
      return {
        ...state,
        session: { ...s, connection: "disconnected" },
        error: connectionLostError(s.interviewId),
        busy: null,
      };
    }

    case "agent_joined": {
      const s = state.session;
      if (!s) return state;
      // Late join after we already gave up: keep the timeout error; the room is being abandoned.
      if (state.error?.code === "agent_timeout") return state;
      return patchSession(state, { agentJoined: true, agentState: s.agentState ?? "initializing" });
    }

    case "agent_left":
      return patchSession(state, { agentJoined: false });

    case "agent_attributes": {
      const s = state.session;
      if (!s) return state;
      const a = ev.attributes;
      const patch: Partial<Session> = {};
      const st = a["lk.agent.state"];
      if (st !== undefined && AGENT_STATES.includes(st)) patch.agentState = st as AgentState;
      const ph = a["interview.phase"];
      if (ph !== undefined && PHASES.includes(ph)) patch.phase = ph as Phase;
      if (a["interview.ends_at"] !== undefined) patch.endsAt = a["interview.ends_at"] || null;
      if (a["interview.question"] !== undefined) {
        const q = a["interview.question"] || null;
        if (q !== s.question) {
          patch.question = q;
          patch.questionStartedAt = q ? ev.now : null;
        }
      }
      if (a["interview.question_ends_at"] !== undefined) patch.questionEndsAt = a["interview.question_ends_at"] || null;
      return patchSession(state, patch);
    }

    case "transcript": {
      const s = state.session;
      if (!s) return state;
      const transcript = mergeSegment(s.transcript, ev.update);
      return transcript === s.transcript ? state : patchSession(state, { transcript });
    }

    case "muted":
      return patchSession(state, { muted: ev.muted });

    case "audio_blocked":
      return patchSession(state, { audioBlocked: ev.blocked });

    case "end_requested":
      return { ...patchSession(state, { ending: true }), busy: "ending" };

    case "session_closed":
      // The interview is over for this client (ended, abandoned, or replaced by a fresh one).
      return { ...state, session: null };

    case "open_report":
      return {
        ...state,
        screen: "report",
        report: { interviewId: ev.interviewId, detail: null, pending: true },
        error: null,
        busy: null,
      };

    case "report_loaded":
      if (!state.report || state.report.interviewId !== ev.detail.interview_id) return state;
      return { ...state, report: { ...state.report, detail: ev.detail, pending: ev.detail.report === null } };

    case "report_unavailable":
      if (!state.report || state.report.interviewId !== ev.interviewId) return state;
      return { ...state, report: { ...state.report, pending: false, unavailable: true } };

    case "history_loaded":
      return { ...state, history: ev.interviews };

    case "tick": {
      const next = { ...state, now: ev.now };
      const r = state.startRetry;
      if (r?.status === "waiting" && ev.now >= r.retryAt) next.startRetry = { ...r, status: "due" };
      const s = state.session;
      if (
        state.screen === "interview" &&
        s &&
        s.connection === "connected" &&
        !s.agentJoined &&
        s.connectedAt !== null &&
        !state.error &&
        ev.now - s.connectedAt >= agentJoinTimeoutSeconds(state) * 1000
      ) {
        next.error = agentTimeoutError(agentJoinTimeoutSeconds(state));
        next.session = { ...s, agentTimedOut: true, connection: "disconnected" };
      }
      return next;
    }
  }
}

// ---- derived views (pure) ----

export interface StartRetryCountdown {
  remainingSeconds: number;
  /** Which automatic retry the countdown leads to (1-based). */
  attempt: number;
  maxAttempts: number;
  /** The retry is due or in flight. */
  trying: boolean;
}

/** The countdown shown while waiting for a free interviewer, or null when not waiting. */
/**
 * The interview to rejoin by itself after `prev → next`, or null. When the connection is lost for longer
 * than livekit-client's own reconnects last (a LiveKit node restarted), the interview is still live and an
 * agent is taking it over: the app asks for a fresh token and joins again once, as the candidate would by
 * pressing "Rejoin". A second loss of the same interview leaves the button to the candidate.
 */
export function interviewToRejoin(prev: State, next: State, rejoinedBefore: ReadonlySet<string>): string | null {
  const lost = next.error?.code === "connection_lost" && prev.error?.code !== "connection_lost";
  const id = next.error?.interviewId;
  return lost && id && !rejoinedBefore.has(id) ? id : null;
}

export function startRetryCountdown(state: State): StartRetryCountdown | null {
  const r = state.startRetry;
  if (!r) return null;
  return {
    remainingSeconds: r.status === "waiting" ? Math.max(0, Math.ceil((r.retryAt - state.now) / 1000)) : 0,
    attempt: r.busyAnswers,
    maxAttempts: BUSY_MAX_RETRIES,
    trying: r.status !== "waiting",
  };
}

export type AgentStatusKey =
  | "connecting"
  | "waiting"
  | "initializing"
  | "greeting"
  | "speaking"
  | "thinking"
  | "listening"
  | "reconnecting"
  | "not_joined"
  | "ended";

export function agentStatus(s: Session): { key: AgentStatusKey; label: string } {
  if (s.agentTimedOut) return { key: "not_joined", label: "The interviewer did not join" };
  if (s.connection === "reconnecting") return { key: "reconnecting", label: "Reconnecting…" };
  if (s.phase === "ended" || s.connection === "disconnected") return { key: "ended", label: "Interview ended" };
  if (s.connection === "connecting") return { key: "connecting", label: "Connecting…" };
  if (!s.agentJoined) return { key: "waiting", label: "Waiting for the interviewer to join…" };
  switch (s.agentState) {
    case "speaking":
      return s.phase === "greeting" || s.phase === null
        ? { key: "greeting", label: "Interviewer is greeting you" }
        : { key: "speaking", label: "Interviewer is speaking" };
    case "thinking":
      return { key: "thinking", label: "Interviewer is thinking…" };
    case "listening":
      return { key: "listening", label: "Listening — your turn to speak" };
    default:
      return { key: "initializing", label: "Interviewer is getting ready…" };
  }
}

export const PHASE_LABELS: Record<Phase, string> = {
  greeting: "Greeting",
  warmup: "Warm-up",
  core: "Core questions",
  candidate_questions: "Your questions",
  closing: "Closing",
  ended: "Ended",
};

/** When the whole interview ends: the agent's `interview.ends_at`, else connect time + duration (estimate). */
export function interviewEndsAt(s: Session): { at: number | null; estimated: boolean } {
  if (s.endsAt) {
    const t = Date.parse(s.endsAt);
    if (!Number.isNaN(t)) return { at: t, estimated: false };
  }
  if (s.connectedAt !== null) return { at: s.connectedAt + s.durationMinutes * 60_000, estimated: true };
  return { at: null, estimated: true };
}

/** Total length of the current question's budget (ms), from when it appeared to its deadline. */
export function questionBudgetMs(s: Session): number | null {
  if (!s.questionEndsAt || s.questionStartedAt === null) return null;
  const t = Date.parse(s.questionEndsAt);
  if (Number.isNaN(t)) return null;
  return Math.max(0, t - s.questionStartedAt);
}
