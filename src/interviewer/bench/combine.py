"""One summary over several runs of `interviewer bench` (batches of one long measurement): their sessions
together, the orphans and survivors of each, the workers' resources of all.

A batch's figures are only as good as its own run: combine batches of the same stack shape and arguments
(the summary keeps each batch's arguments so a reader can check)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from interviewer.bench.plots import plot
from interviewer.bench.resources import PerInterviewPoint, Sample, per_interview_points
from interviewer.bench.stats import describe
from interviewer.bench.summary import print_summary, summarise


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("summaries", nargs="+", type=Path, help="each batch's LABEL.summary.json")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--label", required=True)


def sessions_of(summary_path: Path) -> list[dict[str, Any]]:
    jsonl = summary_path.with_name(summary_path.name.replace(".summary.json", ".sessions.jsonl"))
    return [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]


def combine(summary_paths: list[Path]) -> tuple[list[dict[str, Any]], dict[str, Any], list[Sample]]:
    records: list[dict[str, Any]] = []
    samples: list[Sample] = []
    points: list[PerInterviewPoint] = []
    extra: dict[str, Any] = {"batches": [], "orphans_after_run": [], "stack_survivors": [], "wall_s": 0.0}
    for path in summary_paths:
        batch = json.loads(path.read_text())
        batch_records = sessions_of(path)
        for record in batch_records:
            record["batch"] = batch["label"]
        records.extend(batch_records)
        batch_samples: list[Sample] = batch.get("resource_samples", [])
        samples.extend(batch_samples)
        # Per-interview resources from each batch's own samples: a batch's idle baseline is its own.
        points.extend(per_interview_points(batch_samples))
        extra["batches"].append(
            {"label": batch["label"], "sessions": len(batch_records), "args": batch["args"]}
        )
        extra["orphans_after_run"] += batch["orphans_after_run"]
        extra["stack_survivors"] += batch["stack_survivors"]
        extra["wall_s"] += batch.get("wall_s", 0.0)
    extra["resources"] = {
        "cpu_percent_per_interview": describe([p.cpu_percent for p in points], (0.5, 0.95)),
        "pss_mb_per_interview": describe([p.pss_mb_above_idle for p in points], (0.5, 0.95)),
    }
    return records, extra, samples


def main(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.summaries if not p.exists()]
    if missing:
        print(f"error: no such summary: {', '.join(missing)}", file=sys.stderr)
        return 2
    records, extra, samples = combine(args.summaries)
    extra["label"] = args.label
    args.out.mkdir(parents=True, exist_ok=True)
    summary_path = args.out / f"{args.label}.summary.json"
    plot_path = args.out / f"{args.label}.png"
    summary = summarise(records, extra)
    summary_path.write_text(json.dumps(summary, indent=2))
    plot(
        records,
        samples,
        plot_path,
        f"interviewer bench {args.label}: {len(records)} sessions in {len(args.summaries)} batches",
    )
    print_summary(summary, summary_path, plot_path)
    return 0 if not summary["orphans_after_run"] and not summary["stack_survivors"] else 1
