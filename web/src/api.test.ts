import { describe, expect, it, vi } from "vitest";
import { ApiError, createApi } from "./api";

function res(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers });
}

describe("api client", () => {
  it("sends the bearer token and JSON body, relative URL", async () => {
    const fetchImpl = vi.fn(async () => res(201, { interview_id: "iv1" }));
    const api = createApi(async () => "T0K", fetchImpl as unknown as typeof fetch);
    await api.startInterview({ role: "backend-engineer", duration_minutes: 20 });
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/v1/interviews");
    expect((init.headers as Record<string, string>)["Authorization"]).toBe("Bearer T0K");
    expect(JSON.parse(init.body as string)).toEqual({ role: "backend-engineer", duration_minutes: 20 });
  });

  it("refreshes the ID token once on 401, then maps a second 401 to sign-in", async () => {
    const fetchImpl = vi.fn(async () =>
      res(401, { title: "Unauthorized", status: 401 }, { "Content-Type": "application/problem+json" }),
    );
    const getToken = vi.fn(async (force: boolean) => (force ? "fresh" : "stale"));
    const api = createApi(getToken, fetchImpl as unknown as typeof fetch);
    const err = await api.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).userError.code).toBe("auth_expired");
    expect(getToken.mock.calls).toEqual([[false], [true]]);
  });

  it("parses problem+json and Retry-After", async () => {
    const fetchImpl = vi.fn(async () =>
      res(429, { title: "Too Many Requests", status: 429 }, { "Content-Type": "application/problem+json", "Retry-After": "7" }),
    );
    const api = createApi(async () => "t", fetchImpl as unknown as typeof fetch);
    const err = (await api.startInterview({ role: "x" }).catch((e: unknown) => e)) as ApiError;
    expect(err.userError.code).toBe("rate_limited");
    expect(err.userError.retryAfterSeconds).toBe(7);
  });

  it("a 503 busy problem (every worker full) maps to busy with the wait, not to a server error", async () => {
    const body = { type: "urn:interviewer:problem:busy", title: "Every interviewer is busy", status: 503, detail: "full", retry_after: 12 };
    const headers = { "Content-Type": "application/problem+json", "Retry-After": "12" };
    const api = createApi(async () => "t", (async () => res(503, body, headers)) as unknown as typeof fetch);
    const err = (await api.startInterview({ role: "x" }).catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(503);
    expect(err.userError.code).toBe("busy");
    expect(err.userError.retryAfterSeconds).toBe(12);
    // A bare 503 (a proxy, or the identity provider) is not "busy": the generic server error.
    const bare = createApi(async () => "t", (async () => res(503, undefined, { "Retry-After": "12" })) as unknown as typeof fetch);
    const err2 = (await bare.startInterview({ role: "x" }).catch((e: unknown) => e)) as ApiError;
    expect(err2.userError.code).toBe("server");
  });

  it("maps a network failure", async () => {
    const api = createApi(async () => "t", (async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof fetch);
    const err = (await api.roles().catch((e: unknown) => e)) as ApiError;
    expect(err.userError.code).toBe("network");
  });

  it("refuses to call an authenticated endpoint when signed out", async () => {
    const fetchImpl = vi.fn();
    const api = createApi(async () => null, fetchImpl as unknown as typeof fetch);
    const err = (await api.end("iv1").catch((e: unknown) => e)) as ApiError;
    expect(err.userError.code).toBe("auth_expired");
    expect(fetchImpl).not.toHaveBeenCalled();
  });
});
