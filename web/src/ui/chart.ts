import { svg } from "../dom";
import type { CompetencyScore } from "../types";

const W = 480;
const ROW = 46;
const LEFT = 0;
const BAR_H = 16;

/** Competency scores (1–5) as horizontal bars in inline SVG; accessible via <title>/<desc>. */
export function competencyChart(items: CompetencyScore[]): SVGElement {
  const height = Math.max(1, items.length) * ROW + 18;
  const desc = items
    .map((c) => `${c.name}: ${c.score === null ? "not assessed" : `${c.score} out of 5`}`)
    .join("; ");
  const root = svg("svg", {
    id: "report-chart",
    class: "chart",
    viewBox: `0 0 ${W} ${height}`,
    width: "100%",
    role: "img",
    "aria-labelledby": "chart-title chart-desc",
    preserveAspectRatio: "xMinYMin meet",
  });
  root.append(svg("title", { id: "chart-title" }, "Competency scores, out of 5"), svg("desc", { id: "chart-desc" }, desc));
  const scale = (v: number) => LEFT + (v / 5) * (W - LEFT - 28);

  // grid lines at 1..5
  for (let g = 1; g <= 5; g++) {
    const x = scale(g);
    root.append(
      svg("line", { x1: x, x2: x, y1: 14, y2: height - 4, class: "chart-grid" }),
      svg("text", { x, y: 10, class: "chart-tick", "text-anchor": "middle" }, String(g)),
    );
  }
  items.forEach((c, i) => {
    const y = 18 + i * ROW;
    const g = svg("g", { class: "competency-bar", "data-competency-id": c.id, "data-score": c.score === null ? "" : String(c.score) });
    g.append(svg("text", { x: LEFT, y: y + 12, class: "chart-label" }, c.name));
    g.append(svg("rect", { x: LEFT, y: y + 18, width: scale(5) - LEFT, height: BAR_H, rx: 3, class: "chart-track" }));
    if (c.score === null) {
      g.append(svg("text", { x: LEFT + 6, y: y + 30, class: "chart-na" }, "Not assessed"));
    } else {
      const s = Math.min(5, Math.max(0, c.score));
      g.append(
        svg("rect", { x: LEFT, y: y + 18, width: Math.max(2, scale(s) - LEFT), height: BAR_H, rx: 3, class: `chart-bar score-${Math.round(s)}` }),
        svg("text", { x: scale(s) + 4, y: y + 31, class: "chart-value" }, String(s)),
      );
    }
    root.append(g);
  });
  return root;
}
