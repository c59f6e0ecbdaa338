// Thin client for the same-origin api (/v1). Errors become ApiError carrying a UserError.
import { mapProblem, networkError, parseRetryAfter, type UserError } from "./errors";
import type {
  InterviewDetail,
  InterviewGrant,
  InterviewSummary,
  PlanPreview,
  Problem,
  Role,
  RuntimeConfig,
  StartInterviewRequest,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly userError: UserError,
    readonly status: number,
  ) {
    super(userError.title);
    this.name = "ApiError";
  }
}

/** Returns a Firebase ID token (forceRefresh to bypass the cache), or null when signed out. */
export type TokenGetter = (forceRefresh: boolean) => Promise<string | null>;

export function createApi(getToken: TokenGetter, fetchImpl: typeof fetch = (...a) => fetch(...a)) {
  async function request<T>(method: string, path: string, opts: { body?: unknown; auth?: boolean } = {}): Promise<T> {
    const send = async (forceRefresh: boolean): Promise<Response> => {
      const headers: Record<string, string> = { Accept: "application/json, application/problem+json" };
      if (opts.body !== undefined) headers["Content-Type"] = "application/json";
      if (opts.auth) {
        const token = await getToken(forceRefresh);
        if (!token) throw new ApiError(mapProblem(401, null), 401);
        headers["Authorization"] = `Bearer ${token}`;
      }
      try {
        return await fetchImpl(path, {
          method,
          headers,
          ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        });
      } catch {
        throw new ApiError(networkError(), 0);
      }
    };

    let res = await send(false);
    // An ID token can expire between our cache check and the server's; refresh once before giving up.
    if (res.status === 401 && opts.auth) res = await send(true);
    if (!res.ok) {
      let problem: Problem | null = null;
      if ((res.headers.get("Content-Type") ?? "").includes("json")) {
        try {
          problem = (await res.json()) as Problem;
        } catch {
          problem = null;
        }
      }
      throw new ApiError(mapProblem(res.status, problem, parseRetryAfter(res.headers.get("Retry-After"))), res.status);
    }
    return (await res.json()) as T;
  }

  const enc = encodeURIComponent;
  return {
    config: () => request<RuntimeConfig>("GET", "/v1/config"),
    roles: async () => (await request<{ roles: Role[] }>("GET", "/v1/roles")).roles,
    previewPlan: (role: string, jobDescription: string) =>
      request<PlanPreview>("POST", "/v1/plans/preview", {
        body: jobDescription.trim() ? { role, job_description: jobDescription.trim() } : { role },
      }),
    startInterview: (req: StartInterviewRequest) =>
      request<InterviewGrant>("POST", "/v1/interviews", { body: req, auth: true }),
    rejoin: (id: string) => request<InterviewGrant>("POST", `/v1/interviews/${enc(id)}/token`, { auth: true }),
    end: (id: string) =>
      request<{ interview_id: string; status: string }>("POST", `/v1/interviews/${enc(id)}/end`, { auth: true }),
    list: async () =>
      (await request<{ interviews: InterviewSummary[] }>("GET", "/v1/interviews", { auth: true })).interviews,
    get: (id: string) => request<InterviewDetail>("GET", `/v1/interviews/${enc(id)}`, { auth: true }),
  };
}

export type Api = ReturnType<typeof createApi>;
