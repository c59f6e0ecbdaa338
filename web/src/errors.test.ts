import { describe, expect, it } from "vitest";
import { mapAuthError, mapMediaError, mapProblem, parseRetryAfter } from "./errors";

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
