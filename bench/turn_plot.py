"""The table and the PNG of bench/turn_taking.py's results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def table(results: dict[str, Any]) -> str:
    head = (
        f"{'policy (held-out answers)':<40} {'p50 s':>6} {'p95 s':>6} {'max s':>6} {'cut-offs':>14}"
        f" {'answers cut':>11}"
    )
    lines = [head, "-" * len(head)]
    for row in results["held_out"]:
        cut = f"{row['false_cutoffs']}/{row['mid_answer_pauses']} ({100 * row['false_cutoff_rate']:.0f}%)"
        mark = " <- chosen" if row["policy"] == results["chosen"] else ""
        lines.append(
            f"{row['policy']:<40} {row['latency_p50']:>6} {row['latency_p95']:>6} {row['latency_max']:>6} "
            f"{cut:>14} {row['answers_cut']:>5}/{row['answers']:<5}{mark}"
        )
    for name, figures in results["model_inference"].items():
        calls = figures["calls"]
        lines.append(
            f"{name} inference: p50 {figures['ms_p50']} ms, p95 {figures['ms_p95']} ms ({calls} calls)"
        )
    load = results["machine"]
    lines.append(f"load average before/after: {load['loadavg_before']} / {load['loadavg_after']}")
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2))
    families: dict[str, list[dict[str, Any]]] = {}
    for row in results["all_tune"]:
        families.setdefault(str(row["policy"]).split(" ")[0], []).append(row)
    for family, rows in families.items():
        left.scatter(
            [r["latency_p50"] for r in rows],
            [100 * r["false_cutoff_rate"] for r in rows],
            s=10 if family != "vad" else 40,
            alpha=0.35 if family != "vad" else 1.0,
            label=family,
        )
    for row in results["held_out"]:
        marker = "*" if row["policy"] == results["chosen"] else "x"
        left.scatter(row["latency_p50"], 100 * row["false_cutoff_rate"], marker=marker, s=160, color="black")
        left.annotate(row["policy"], (row["latency_p50"], 100 * row["false_cutoff_rate"]), fontsize=6)
    left.axhline(100 * 0.05, color="grey", linestyle="--", linewidth=0.8)
    left.set_xlabel("median turn-end latency after the true end of speech (s)")
    left.set_ylabel("false cut-offs (% of mid-answer pauses)")
    left.set_title("every policy on the tune answers (dots); black: held-out figures of the compared ones")
    left.title.set_fontsize(8)
    left.legend(fontsize=7)
    for row in results["held_out"]:
        values = sorted(row.get("latencies", []))
        if values:
            right.step(
                values, [(i + 1) / len(values) for i in range(len(values))], where="post", label=row["policy"]
            )
    right.set_xlabel("turn-end latency after the true end of speech (s), held-out answers")
    right.set_ylabel("fraction of answers")
    right.set_title("latency CDF (a false cut-off is not counted here: see the left panel)")
    right.title.set_fontsize(8)
    right.legend(fontsize=6)
    load = results["machine"]["loadavg_before"]
    total, chosen = results["clips"]["total"], results["chosen"]
    fig.suptitle(f"Turn-taking on {total} spoken answers, chosen: {chosen} (load {load[0]:.2f})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
