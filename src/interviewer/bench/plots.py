"""The run's figure: latency CDFs, success over time, and the workers' CPU and memory per interview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interviewer.bench.resources import Sample, per_interview_points
from interviewer.bench.summary import judged


def plot(records: list[dict[str, Any]], samples: list[Sample], path: Path, title: str) -> None:
    # Imported here: matplotlib is slow to import and only this, at the very end, needs it.
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    records = judged(records)

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    ax = axes[0][0]
    for key, label in (("dispatch_s", "dispatch"), ("greeting_s", "greeting"), ("replies_s", "reply")):
        values = sorted(
            v
            for r in records
            for v in (r.get(key) or [] if key == "replies_s" else [r.get(key)])
            if v is not None
        )
        if values:
            ax.step(
                values,
                [(i + 1) / len(values) for i in range(len(values))],
                where="post",
                label=f"{label} (n={len(values)})",
            )
    ax.set(xlabel="seconds", ylabel="fraction of sessions", title="latency CDFs")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right")
    ax.grid(alpha=0.3)

    ax = axes[0][1]
    if records:
        t0 = min(r["arrived_at"] for r in records)
        ordered = sorted(records, key=lambda r: r["arrived_at"])
        xs = [r["arrived_at"] - t0 for r in ordered]
        window = min(len(ordered), max(5, len(ordered) // 20))
        ok = [float(bool(r.get("audio_ok"))) for r in ordered]
        rolling = [
            sum(ok[max(0, i - window + 1) : i + 1]) / len(ok[max(0, i - window + 1) : i + 1])
            for i in range(len(ok))
        ]
        ax.plot(xs, rolling, label=f"audio startup ok (rolling {window})")
        ax.scatter(xs, ok, s=6, alpha=0.4, color="grey")
    ax.set(xlabel="arrival (s from start)", ylabel="success", title="success over time", ylim=(-0.05, 1.05))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left")
    ax.grid(alpha=0.3)

    points = per_interview_points(samples)
    # Interviews running at every sample after the first (idle ones included), on a second axis.
    active = [(s["t"] - samples[0]["t"], s["active"]) for s in samples[1:]]
    ax = axes[1][0]
    ax.plot(
        [p.t for p in points], [p.cpu_percent for p in points], label="workers' CPU % per running interview"
    )
    if active:
        twin = ax.twinx()
        twin.plot([a[0] for a in active], [a[1] for a in active], color="grey", alpha=0.5, label="running")
        twin.set_ylabel("interviews running")
    ax.set(xlabel="seconds", ylabel="CPU % (of one core)", title="CPU per interview")
    ax.grid(alpha=0.3)
    ax = axes[1][1]
    ax.plot([p.t for p in points], [p.pss_mb_above_idle for p in points], color="tab:green")
    ax.set(xlabel="seconds", ylabel="MB PSS above idle", title="memory per interview")
    ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
