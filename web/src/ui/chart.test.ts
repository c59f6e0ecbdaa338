// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { competencyChart } from "./chart";

describe("competency chart (inline SVG)", () => {
  it("draws one bar per scored competency, 'Not assessed' for null, and an accessible description", () => {
    const el = competencyChart([
      { id: "a", name: "System design", score: 4, rationale: "", evidence: [], coverage: "assessed" },
      { id: "b", name: "Communication", score: null, rationale: "", evidence: [], coverage: "not_reached" },
    ]);
    const groups = el.querySelectorAll(".competency-bar");
    expect(groups).toHaveLength(2);
    expect(groups[0]!.getAttribute("data-score")).toBe("4");
    expect(groups[0]!.querySelector(".chart-bar")).not.toBeNull();
    expect(groups[1]!.querySelector(".chart-bar")).toBeNull();
    expect(groups[1]!.textContent).toContain("Not assessed");
    expect(el.getAttribute("role")).toBe("img");
    expect(el.querySelector("desc")?.textContent).toBe("System design: 4 out of 5; Communication: not assessed");
    // bar width proportional to score: 4/5 of the full track
    const track = Number(groups[0]!.querySelector(".chart-track")!.getAttribute("width"));
    const bar = Number(groups[0]!.querySelector(".chart-bar")!.getAttribute("width"));
    expect(bar / track).toBeCloseTo(0.8);
  });
});
