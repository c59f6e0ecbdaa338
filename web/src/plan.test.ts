import { describe, expect, it } from "vitest";
import { createApi } from "./api";
import { buildStartRequest, choiceProblem, chosenIds, COMPETENCIES_MAX, previewKey, toggleCompetency } from "./plan";
import { initialState, reduce, type SetupForm } from "./state";
import type { PlanPreview } from "./types";

const preview: PlanPreview = {
  title: "Backend engineer",
  summary: "APIs and data",
  competencies: [
    { id: "system-design", kind: "technical", name: "System design" },
    { id: "databases", kind: "technical", name: "Databases" },
    { id: "communication", kind: "behavioural", name: "Communication" },
  ],
  alternatives: [
    { id: "security", kind: "technical", name: "Security" },
    { id: "testing", kind: "technical", name: "Testing" },
  ],
};
const setup: SetupForm = { role: "backend-engineer", jobDescription: "", duration: 20, competencies: null };

describe("competency choice", () => {
  it("is the plan's own until the candidate touches it", () => {
    expect(chosenIds(preview, null)).toEqual(["system-design", "databases", "communication"]);
  });

  it("drops one and adds one, keeping the preview's order", () => {
    const dropped = toggleCompetency(preview, null, "databases", false);
    expect(dropped).toEqual(["system-design", "communication"]);
    const added = toggleCompetency(preview, dropped, "testing", true);
    expect(added).toEqual(["system-design", "communication", "testing"]);
    // Adding back the dropped one puts it in its place, not at the end.
    expect(toggleCompetency(preview, added, "databases", true)).toEqual([
      "system-design",
      "databases",
      "communication",
      "testing",
    ]);
  });

  it("refuses an empty choice and one over the api's limit", () => {
    expect(choiceProblem([])).toMatch(/at least one/);
    expect(choiceProblem(["a"])).toBeNull();
    expect(choiceProblem(Array.from({ length: COMPETENCIES_MAX + 1 }, (_, i) => `c${i}`))).toMatch(/at most/);
  });

  it("keys a preview by role and trimmed description", () => {
    expect(previewKey({ role: "custom", jobDescription: " Go dev \n" })).toBe(previewKey({ role: "custom", jobDescription: "Go dev" }));
    expect(previewKey({ role: "custom", jobDescription: "Go dev" })).not.toBe(previewKey({ role: "custom", jobDescription: "Rust dev" }));
    expect(previewKey({ role: "a", jobDescription: "" })).not.toBe(previewKey({ role: "b", jobDescription: "" }));
  });
});

describe("start request", () => {
  it("sends no competencies when the candidate kept the plan's own", () => {
    expect(buildStartRequest(setup)).toEqual({ role: "backend-engineer", duration_minutes: 20 });
  });

  it("sends the chosen list, in order, and the trimmed description", () => {
    const body = buildStartRequest({ ...setup, role: "custom", jobDescription: "  Go dev ", competencies: ["testing", "security"] });
    expect(body).toEqual({
      role: "custom",
      job_description: "Go dev",
      duration_minutes: 20,
      competencies: ["testing", "security"],
    });
  });
});

describe("setup_changed and the choice", () => {
  const chosen = reduce(initialState(0), { type: "setup_changed", patch: { competencies: ["security"] } });

  it("keeps the choice while the plan is the same", () => {
    const s = reduce(chosen, { type: "setup_changed", patch: { duration: 30, jobDescription: "   " } });
    expect(s.setup.competencies).toEqual(["security"]);
  });

  it("drops the choice when the role or the description changes", () => {
    expect(reduce(chosen, { type: "setup_changed", patch: { role: "data-engineer" } }).setup.competencies).toBeNull();
    expect(reduce(chosen, { type: "setup_changed", patch: { jobDescription: "Go dev" } }).setup.competencies).toBeNull();
  });

  it("takes a choice sent together with a new role", () => {
    const s = reduce(chosen, { type: "setup_changed", patch: { role: "data-engineer", competencies: ["testing"] } });
    expect(s.setup.competencies).toEqual(["testing"]);
  });
});

describe("plan preview call", () => {
  it("posts the role, and the description only when there is one, without a token", async () => {
    const calls: [string, RequestInit][] = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      calls.push([url, init]);
      return new Response(JSON.stringify(preview), { status: 200, headers: { "Content-Type": "application/json" } });
    }) as unknown as typeof fetch;
    const api = createApi(async () => null, fetchImpl);
    expect(await api.previewPlan("backend-engineer", "  ")).toEqual(preview);
    await api.previewPlan("custom", " Go dev ");
    expect(calls.map(([u]) => u)).toEqual(["/v1/plans/preview", "/v1/plans/preview"]);
    expect(calls.map(([, i]) => JSON.parse(i.body as string))).toEqual([
      { role: "backend-engineer" },
      { role: "custom", job_description: "Go dev" },
    ]);
    expect((calls[0]![1].headers as Record<string, string>)["Authorization"]).toBeUndefined();
  });
});
