import { describe, expect, it } from "vitest";
import { BUSY_WAIT_DEFAULT_S, busyGaveUpError, mapAuthError, mapMediaError, mapProblem, parseRetryAfter } from "./errors";

const domErr = (name: string) => Object.assign(new Error(name), { name });

describe("getUserMedia errors", () => {
  it.each([
    ["NotAllowedError", "mic_denied"],
    ["SecurityError", "mic_denied"],
    ["NotFoundError", "no_mic"],
    ["OverconstrainedError", "no_mic"],
    ["NotReadableError", "mic_busy"],
    ["WeirdError", "mic_failed"],
  ])("%s → %s", (name, code) => {
    const e = mapMediaError(domErr(name));
    expect(e.code).toBe(code);
    expect(e.actions).toContain("retry_mic");
  });

  it("denied copy tells the person what to do", () => {
    expect(mapMediaError(domErr("NotAllowedError")).message).toMatch(/Allow microphone access/);
  });

  it("non-errors map to the generic mic failure", () => {
    expect(mapMediaError("boom").code).toBe("mic_failed");
    expect(mapMediaError(undefined).code).toBe("mic_failed");
  });
});

describe("problem+json → message", () => {
  it("401 asks to sign in again", () => {
    const e = mapProblem(401, { type: "about:blank", title: "Unauthorized", status: 401, detail: "token expired" });
    expect(e.code).toBe("auth_expired");
    expect(e.actions).toEqual(["sign_in"]);
  });

  it("409 offers rejoin or end of the active interview", () => {
    const e = mapProblem(409, { title: "Conflict", status: 409, detail: "active", active_interview_id: "iv7" });
    expect(e.code).toBe("active_interview");
    expect(e.interviewId).toBe("iv7");
    expect(e.actions).toEqual(["rejoin", "end_active", "back"]);
  });

  it("409 without an id can only go back", () => {
    expect(mapProblem(409, null).actions).toEqual(["back"]);
  });

  it("429 uses Retry-After", () => {
    expect(mapProblem(429, null, 30).message).toContain("30 seconds");
    expect(mapProblem(429, null, 120).message).toContain("2 minutes");
    expect(mapProblem(429, null, 30).retryAfterSeconds).toBe(30);
    expect(mapProblem(429, null).message).toContain("a moment");
  });

  it("422 shows the server's detail", () => {
    const e = mapProblem(422, { title: "Invalid interview", detail: "duration_minutes must be between 5 and 60" });
    expect(e.title).toBe("Invalid interview");
    expect(e.message).toBe("duration_minutes must be between 5 and 60");
  });

  it("5xx is a retryable server error; unknown 4xx falls back to title", () => {
    expect(mapProblem(503, null).code).toBe("server");
    expect(mapProblem(503, null).actions).toContain("retry");
    expect(mapProblem(418, { title: "Teapot" }).title).toBe("Teapot");
  });
});

describe("503 busy (every interviewer is full)", () => {
  const busy = {
    type: "urn:interviewer:problem:busy",
    title: "Every interviewer is busy",
    status: 503,
    detail: "all 2 interview workers are full; please try again in 15 seconds",
    retry_after: 15,
  };

  it("says busy, when it will try again, and that nothing is needed", () => {
    const e = mapProblem(503, busy, 15);
    expect(e.code).toBe("busy");
    expect(e.retryAfterSeconds).toBe(15);
    expect(e.actions).toEqual(["retry", "back"]);
    expect(e.title).toMatch(/busy/);
    expect(e.message).toContain("15 seconds");
    expect(e.message).toMatch(/don't need to do anything/);
  });

  it("takes the wait from the body first, then the Retry-After header, else a default", () => {
    expect(mapProblem(503, busy, 40).retryAfterSeconds).toBe(15);
    expect(mapProblem(503, { ...busy, retry_after: undefined }, 40).retryAfterSeconds).toBe(40);
    expect(mapProblem(503, { ...busy, retry_after: "soon" }, 40).retryAfterSeconds).toBe(40);
    expect(mapProblem(503, { ...busy, retry_after: undefined }).retryAfterSeconds).toBe(BUSY_WAIT_DEFAULT_S);
  });

  it("bounds the wait: never a tight loop, never an endless countdown", () => {
    expect(mapProblem(503, { ...busy, retry_after: 0 }).retryAfterSeconds).toBe(1);
    expect(mapProblem(503, { ...busy, retry_after: 2.2 }).retryAfterSeconds).toBe(3);
    expect(mapProblem(503, { ...busy, retry_after: 86_400 }).retryAfterSeconds).toBe(300);
    expect(mapProblem(503, { ...busy, retry_after: 120 }).message).toContain("2 minutes");
  });

  it("a 503 of another type is still the generic server error", () => {
    const idp = { type: "urn:interviewer:problem:identity-unavailable", title: "Unavailable", status: 503 };
    expect(mapProblem(503, idp, 5).code).toBe("server");
    expect(mapProblem(503, { ...busy, type: "urn:interviewer:problem:busy-ish" }).code).toBe("server");
    // busy only means busy on a 503
    expect(mapProblem(500, busy).code).toBe("server");
  });

  it("a database that could not be reached for a moment is asked again on its own, in its own words", () => {
    const unavailable = {
      type: "urn:interviewer:problem:unavailable",
      title: "Briefly unavailable",
      status: 503,
      retry_after: 2,
    };
    const e = mapProblem(503, unavailable, 2);
    expect(e.code).toBe("busy"); // the same automatic retry as busy
    expect(e.retryAfterSeconds).toBe(2);
    expect(e.title).not.toMatch(/busy/);
    expect(e.message).toContain("briefly unavailable");
    expect(e.message).toContain("2 seconds");
    expect(mapProblem(500, unavailable).code).toBe("server");
  });

  it("giving up after the retries keeps both choices and names no countdown", () => {
    const e = busyGaveUpError(10);
    expect(e.code).toBe("busy");
    expect(e.actions).toEqual(["retry", "back"]);
    expect(e.retryAfterSeconds).toBeUndefined();
    expect(e.message).toContain("10 more times");
  });
});

describe("Retry-After", () => {
  it("parses seconds and HTTP dates", () => {
    expect(parseRetryAfter("12")).toBe(12);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:01:00 GMT", now)).toBe(60);
  });
});

describe("auth errors", () => {
  it("maps Firebase codes to copy", () => {
    expect(mapAuthError({ code: "auth/invalid-credential" })).toMatch(/not correct/);
    expect(mapAuthError({ code: "auth/network-request-failed" })).toMatch(/Can't reach/);
    expect(mapAuthError(new Error("x"))).toBe("Sign-in failed. Try again.");
  });
});
