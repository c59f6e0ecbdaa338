"""Batches of one measurement summarised as one: every session counted once, no batch's orphans lost."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from interviewer.bench.combine import main


def batch(out: Path, label: str, ok: list[bool], orphans: list[str], cut: int = 0) -> Path:
    records = [
        {
            "index": i,
            "scenario": "candidate_first",
            "arrived_at": 1000.0 + i,
            "room": f"{label}-{i}",
            "audio_ok": good,
            "agents_seen": ["agent-x"],
            "dispatch_s": 0.5,
            "greeting_s": 1.0,
        }
        for i, good in enumerate(ok)
    ]
    records += [
        {"index": len(ok) + i, "arrived_at": 2000.0, "busy": 2, "cut_by_run_end": True} for i in range(cut)
    ]
    (out / f"{label}.sessions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    summary: dict[str, Any] = {
        "label": label,
        "args": {"sessions": str(len(ok))},
        "orphans_after_run": orphans,
        "stack_survivors": [],
        "wall_s": 60.0,
        "resource_samples": [
            {"t": 0.0, "active": 0, "cpu_s": 0.0, "pss_mb": 100.0},
            {"t": 1.0, "active": 2, "cpu_s": 0.5, "pss_mb": 140.0},
        ],
    }
    path = out / f"{label}.summary.json"
    path.write_text(json.dumps(summary))
    return path


def test_batches_add_up_and_keep_their_orphans(tmp_path: Path) -> None:
    first = batch(tmp_path, "one", [True, True, False], [])
    second = batch(tmp_path, "two", [True, True], ["pid 4242 interviewer agent"], cut=2)
    code = main(argparse.Namespace(summaries=[first, second], out=tmp_path, label="all"))
    summary = json.loads((tmp_path / "all.summary.json").read_text())
    assert summary["audio_startup"]["k"] == 4 and summary["audio_startup"]["n"] == 5
    assert summary["cut_by_run_end"] == 2  # running when the batch's time ran out: in no rate
    assert summary["busy_answers"] == 4  # but what the fleet answered them still counts
    assert [b["sessions"] for b in summary["batches"]] == [3, 4]
    assert summary["orphans_after_run"] == ["pid 4242 interviewer agent"]
    assert code == 1  # an orphan in any batch fails the whole
    assert summary["resources"]["cpu_percent_per_interview"]["n"] == 2
    assert (tmp_path / "all.png").stat().st_size > 0


def test_a_missing_batch_is_an_error(tmp_path: Path) -> None:
    assert main(argparse.Namespace(summaries=[tmp_path / "nope.summary.json"], out=tmp_path, label="x")) == 2
