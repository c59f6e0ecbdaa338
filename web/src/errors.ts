// Pure error mapping: whatever went wrong → copy a person can act on, plus the next actions offered.
import type { Problem } from "./types";

export type ErrorCode =
  | "mic_denied"
  | "no_mic"
  | "mic_busy"
  | "mic_failed"
  | "auth_expired"
  | "auth_failed"
  | "active_interview"
  | "rate_limited"
  | "busy"
  | "invalid_request"
  | "not_found"
  | "server"
  | "network"
  | "agent_timeout"
  | "connect_failed"
  | "connection_lost"
  | "unknown";

/** What the UI can do next; each maps to one button. */
export type ErrorAction =
  | "sign_in" // sign out, show the sign-in screen
  | "retry_mic" // ask for the microphone again
  | "rejoin" // POST /v1/interviews/{id}/token and join again
  | "end_active" // POST /v1/interviews/{id}/end, then back to setup
  | "try_again" // end this interview (fresh room) and start a new one
  | "retry" // repeat the request that failed
  | "back"; // back to the setup screen

export interface UserError {
  code: ErrorCode;
  title: string;
  message: string;
  actions: ErrorAction[];
  /** For active_interview (409): the interview to rejoin or end. */
  interviewId?: string;
  /** For rate_limited (429) and busy (503): seconds to wait before trying again. */
  retryAfterSeconds?: number;
}

/** getUserMedia / device errors (DOMException names) → UserError. */
export function mapMediaError(err: unknown): UserError {
  const name = errorName(err);
  switch (name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return {
        code: "mic_denied",
        title: "Microphone access is blocked",
        message:
          "The interview is spoken, so it needs your microphone. Allow microphone access for this site " +
          "(the lock or camera icon in the address bar), then try again.",
        actions: ["retry_mic", "back"],
      };
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return {
        code: "no_mic",
        title: "No microphone found",
        message:
          "We could not find a microphone. Plug in a headset or microphone (or pick another input), then try again.",
        actions: ["retry_mic", "back"],
      };
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return {
        code: "mic_busy",
        title: "The microphone is in use or unavailable",
        message:
          "Another application may be using your microphone. Close it (or choose another input) and try again.",
        actions: ["retry_mic", "back"],
      };
    default:
      return {
        code: "mic_failed",
        title: "The microphone could not be started",
        message: `Something went wrong starting the microphone${name ? ` (${name})` : ""}. Try again or choose another input.`,
        actions: ["retry_mic", "back"],
      };
  }
}

function errorName(err: unknown): string {
  if (err && typeof err === "object" && "name" in err && typeof (err as { name: unknown }).name === "string") {
    return (err as { name: string }).name;
  }
  return "";
}

/** Parse a Retry-After header value (delta-seconds or HTTP date) into whole seconds. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** Problem type the api gives a 503 when every interview worker is full (BusyProblem). */
const BUSY_TYPE_SUFFIX = ":busy";
/** Wait when a busy answer names no time, and the bounds on a named one: never a tight loop of requests,
 *  never a countdown nobody would sit through. */
export const BUSY_WAIT_DEFAULT_S = 20;
const BUSY_WAIT_MIN_S = 1;
const BUSY_WAIT_MAX_S = 300;

/** Problem type the api gives a 503 when its database could not be reached for a moment (a restart). */
const UNAVAILABLE_TYPE_SUFFIX = ":unavailable";

/** Seconds to wait: the body's retry_after, else the Retry-After header, else a default; within bounds. */
function waitFor(problem: Problem | null, retryAfter?: number): number {
  const fromBody = problem?.retry_after;
  const named = typeof fromBody === "number" && Number.isFinite(fromBody) ? fromBody : retryAfter;
  return named === undefined ? BUSY_WAIT_DEFAULT_S : Math.min(BUSY_WAIT_MAX_S, Math.max(BUSY_WAIT_MIN_S, Math.ceil(named)));
}

/** The service could not reach its database: asked again on its own, like busy, with its own words. */
export function unavailableError(problem: Problem | null, retryAfter?: number): UserError {
  const seconds = waitFor(problem, retryAfter);
  return {
    code: "busy",
    title: "Just a moment",
    message: `The service is briefly unavailable. We'll try again in ${formatWait(seconds)} — you don't need to do anything. Keep this page open.`,
    actions: ["retry", "back"],
    retryAfterSeconds: seconds,
  };
}

/** "Every interviewer is busy": the body's retry_after, else the Retry-After header, else a default. */
export function busyError(problem: Problem | null, retryAfter?: number): UserError {
  const seconds = waitFor(problem, retryAfter);
  return {
    code: "busy",
    title: "All our interviewers are busy right now",
    message: `Every interviewer is with another candidate. We'll try again in ${formatWait(seconds)} — you don't need to do anything. Keep this page open.`,
    actions: ["retry", "back"],
    retryAfterSeconds: seconds,
  };
}

/** Busy after every automatic retry: stop asking, say so, and leave the choice to the person. */
export function busyGaveUpError(retries: number): UserError {
  return {
    code: "busy",
    title: "Every interviewer is still busy",
    message:
      `We tried ${retries} more time${retries === 1 ? "" : "s"} and every interviewer is still with another candidate. ` +
      "Try again in a few minutes, or go back and come back later.",
    actions: ["retry", "back"],
  };
}

function is503Of(suffix: string, status: number, problem: Problem | null): boolean {
  return status === 503 && typeof problem?.type === "string" && problem.type.endsWith(suffix);
}

/** An HTTP error response from the api (problem+json or not) → UserError. */
export function mapProblem(status: number, problem: Problem | null, retryAfter?: number): UserError {
  const detail = typeof problem?.detail === "string" && problem.detail ? problem.detail : undefined;
  // A 503 that is not "busy" is the identity provider being unreachable: the generic server error below.
  if (is503Of(BUSY_TYPE_SUFFIX, status, problem)) return busyError(problem, retryAfter);
  if (is503Of(UNAVAILABLE_TYPE_SUFFIX, status, problem)) return unavailableError(problem, retryAfter);
  switch (status) {
    case 401:
      return {
        code: "auth_expired",
        title: "Please sign in again",
        message: "Your sign-in has expired or is no longer valid. Sign in again to continue.",
        actions: ["sign_in"],
      };
    case 403:
      return {
        code: "auth_failed",
        title: "Not allowed",
        message: detail ?? "Your account is not allowed to do this. Try signing in with another account.",
        actions: ["sign_in", "back"],
      };
    case 404:
      return {
        code: "not_found",
        title: "Interview not found",
        message: detail ?? "This interview does not exist or has already been removed.",
        actions: ["back"],
      };
    case 409: {
      const id = typeof problem?.active_interview_id === "string" ? problem.active_interview_id : undefined;
      return {
        code: "active_interview",
        title: "You already have an interview in progress",
        message:
          "You can rejoin the interview that is still running, or end it and start a new one." +
          (detail ? ` (${detail})` : ""),
        actions: id ? ["rejoin", "end_active", "back"] : ["back"],
        ...(id ? { interviewId: id } : {}),
      };
    }
    case 429: {
      const wait = retryAfter !== undefined ? `Please wait ${formatWait(retryAfter)} and try again.` : "Please wait a moment and try again.";
      return {
        code: "rate_limited",
        title: "Too many interviews started",
        message: `You have started too many interviews in a short time. ${wait}`,
        actions: ["retry", "back"],
        ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
      };
    }
    case 400:
    case 422:
      return {
        code: "invalid_request",
        title: problem?.title ?? "Please check your choices",
        message: detail ?? "Some of the interview settings were not accepted. Check them and try again.",
        actions: ["back"],
      };
    default:
      if (status >= 500) {
        return {
          code: "server",
          title: "The service is having trouble",
          message: "Something went wrong on our side. Try again in a moment." + (detail ? ` (${detail})` : ""),
          actions: ["retry", "back"],
        };
      }
      return {
        code: "unknown",
        title: problem?.title ?? `Request failed (${status})`,
        message: detail ?? "Something unexpected happened. Try again.",
        actions: ["retry", "back"],
      };
  }
}

function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const m = Math.ceil(seconds / 60);
  return `${m} minute${m === 1 ? "" : "s"}`;
}

export function networkError(): UserError {
  return {
    code: "network",
    title: "Can't reach the service",
    message: "Check your internet connection, then try again.",
    actions: ["retry", "back"],
  };
}

export function agentTimeoutError(seconds: number): UserError {
  return {
    code: "agent_timeout",
    title: "The interviewer did not join",
    message: `The interviewer did not join within ${seconds} seconds. "Try again" ends this attempt and starts a fresh interview.`,
    actions: ["try_again", "back"],
  };
}

export function connectFailedError(): UserError {
  return {
    code: "connect_failed",
    title: "Could not connect to the interview room",
    message: "We could not open the audio connection. Check your network (a VPN or firewall may block it) and try again.",
    actions: ["try_again", "back"],
  };
}

export function connectionLostError(interviewId: string): UserError {
  return {
    code: "connection_lost",
    title: "Connection lost",
    message: "The connection to the interview dropped and could not be restored. Your interview is still running: rejoin to continue.",
    actions: ["rejoin", "end_active"],
    interviewId,
  };
}

/** Firebase Auth errors (auth/… codes) → short copy for the sign-in form. */
export function mapAuthError(err: unknown): string {
  const code = err && typeof err === "object" && "code" in err ? String((err as { code: unknown }).code) : "";
  switch (code) {
    case "auth/invalid-email":
      return "That email address does not look right.";
    case "auth/missing-password":
    case "auth/weak-password":
      return "Use a password of at least 6 characters.";
    case "auth/invalid-credential":
    case "auth/wrong-password":
    case "auth/user-not-found":
    case "auth/invalid-login-credentials":
      return "Email or password is not correct. Check them, or create an account.";
    case "auth/email-already-in-use":
      return "An account with this email already exists. Sign in instead.";
    case "auth/too-many-requests":
      return "Too many attempts. Wait a minute and try again.";
    case "auth/network-request-failed":
      return "Can't reach the sign-in service. Check your connection and try again.";
    case "auth/operation-not-allowed":
    case "auth/admin-restricted-operation":
      return "This sign-in method is not enabled.";
    default:
      return "Sign-in failed. Try again.";
  }
}
