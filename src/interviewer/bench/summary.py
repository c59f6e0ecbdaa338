"""The run's summary: success and failure rates with Wilson 95% intervals, latency percentiles with
order-statistic intervals (stats.py), who served the sessions, and the few lines printed at the end."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from interviewer.bench.stats import describe, rate


def judged(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sessions the stack is judged on: those still running when the run's own `--max-minutes` ran out
    say nothing about the stack."""
    return [r for r in records if not r.get("cut_by_run_end")]


def summarise(records: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    """Rates are over the sessions that got a room where they are about dispatch (none to dispatch
    to otherwise); `extra` (resources, orphans, run arguments) is merged in as it is."""
    cut = [r for r in records if r.get("cut_by_run_end")]
    busy_answers = sum(r.get("busy", 0) for r in records)  # the cut sessions were told "busy" too
    records = judged(records)
    n = len(records)
    with_room = [r for r in records if r.get("room")]
    seen = [len(r.get("agents_seen", [])) for r in with_room]
    summary: dict[str, Any] = {
        "sessions": n,
        "cut_by_run_end": len(cut),  # running when --max-minutes ran out: in no rate
        "errors": sum(1 for r in records if r.get("error")),
        "busy_answers": busy_answers,
        "audio_startup": rate(sum(1 for r in records if r.get("audio_ok")), n),
        # A candidate told "busy" until the run ended never joined a room: that is the fleet's capacity
        # speaking, counted in `busy_answers`, not an audio start-up that failed.
        "audio_startup_admitted": rate(sum(1 for r in with_room if r.get("audio_ok")), len(with_room)),
        "dispatch_s": describe([r["dispatch_s"] for r in records if r.get("dispatch_s") is not None]),
        "greeting_s": describe([r["greeting_s"] for r in records if r.get("greeting_s") is not None]),
        "reply_s": describe([s for r in records for s in r.get("replies_s", [])]),
        "api_s": describe([r["api_s"] for r in records if r.get("api_s") is not None]),
        "missed_dispatch": rate(sum(1 for s in seen if s == 0), len(with_room)),
        "duplicate_agents": rate(sum(1 for s in seen if s > 1), len(with_room)),
        "agents_at_once_over_1": rate(
            sum(1 for r in with_room if r.get("max_agents_at_once", 0) > 1), len(with_room)
        ),
        # Listed at once counts a dead job's participant that lingers; heard at once is two live agents.
        "agents_heard_at_once_over_1": rate(
            sum(1 for r in with_room if r.get("voices_at_once", 0) > 1), len(with_room)
        ),
        "duplicate_jobs": rate(sum(1 for r in with_room if r.get("jobs_assigned", 0) > 1), len(with_room)),
        "tool_calls_before_guard": sum(r.get("tool_calls_before_guard", 0) for r in records),
        "sessions_with_tool_call_before_guard": rate(
            sum(1 for r in records if r.get("tool_calls_before_guard", 0) > 0), len(with_room)
        ),
        "guard_refusals": sum(r.get("guard_refusals", 0) for r in records),
        "interviews_without_stored_greeting": sum(
            1 for r in with_room if r.get("interview_id") and r.get("greeting_stored") is False
        ),
        "by_scenario": {
            s: rate(sum(1 for r in records if r["scenario"] == s and r.get("audio_ok")), c)
            for s, c in sorted(Counter(r["scenario"] for r in records).items())
        },
        "by_node": dict(sorted(Counter(str(r.get("node")) for r in with_room).items())),
        "by_worker": dict(sorted(Counter(str(r.get("worker")) for r in with_room).items())),
        "error_kinds": dict(
            Counter(str(r["error"]).split(":")[0] for r in records if r.get("error")).most_common()
        ),
    }
    summary.update(extra)
    return summary


def print_summary(summary: dict[str, Any], *paths: Path) -> None:
    """The headline numbers with their intervals on stdout, then the files written."""

    def ci(block: dict[str, Any], key: str) -> str:
        value, (low, high) = block.get(key), block.get(f"{key}_ci95", [None, None])

        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:.2f}"

        return f"{key} {fmt(value)} [{fmt(low)}, {fmt(high)}]"

    audio = summary["audio_startup"]
    low, high = audio["ci95"]
    print(
        f"sessions {summary['sessions']}, errors {summary['errors']}, "
        f"busy answers {summary['busy_answers']}, cut short by the run's end {summary['cut_by_run_end']}"
    )
    if audio["rate"] is not None:
        print(
            f"audio startup ok {audio['k']}/{audio['n']} = {audio['rate']:.1%} (95% CI {low:.1%}..{high:.1%})"
        )
    admitted = summary["audio_startup_admitted"]
    if admitted["rate"] is not None:
        low, high = admitted["ci95"]
        print(
            f"  of the sessions admitted to a room: {admitted['k']}/{admitted['n']} = {admitted['rate']:.1%} "
            f"(95% CI {low:.1%}..{high:.1%})"
        )
    for key in ("dispatch_s", "greeting_s", "reply_s"):
        block = summary[key]
        print(f"{key:11} n={block['n']:<4} {ci(block, 'p50')}  {ci(block, 'p95')}  {ci(block, 'p99')}")
    print(
        f"missed dispatch {summary['missed_dispatch']['k']}, "
        f"duplicate agents {summary['duplicate_agents']['k']} "
        f"({summary['agents_at_once_over_1']['k']} listed at once, "
        f"{summary['agents_heard_at_once_over_1']['k']} heard at once), "
        f"duplicate jobs {summary['duplicate_jobs']['k']}, tool calls before the guard opened "
        f"{summary['tool_calls_before_guard']} (greetings not stored "
        f"{summary['interviews_without_stored_greeting']}), guard refusals {summary['guard_refusals']}"
    )
    print(
        f"by node {summary['by_node']}  by worker {summary['by_worker']}  "
        f"by scenario {summary['by_scenario']}"
    )
    res = summary.get("resources", {})
    print(
        f"per interview: CPU {res.get('cpu_percent_per_interview', {}).get('p50')} % of a core (p50), "
        f"PSS {res.get('pss_mb_per_interview', {}).get('p50')} MB (p50)"
    )
    print(
        f"orphans after the run: {summary['orphans_after_run'] or 'none'}; "
        f"survivors: {summary['stack_survivors'] or 'none'}"
    )
    for path in paths:
        print(f"wrote {path}")
