"""Who served each session, read back from the servers after the run: the node that hosted its room, the
jobs livekit assigned for it and the worker that ran it (the nodes' livekit-server logs), and from the
store the tool calls that took effect before the Greeting Guard opened, guard refusals, how the
interview ended and how often its lease was taken over."""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from interviewer.bench.target import Target


def _log_events(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(message, fields) of each structured line of a livekit-server log; a missing log yields nothing."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return
    for line in text.splitlines():
        # time, level, logger, caller, message, {fields}: tab-separated (livekit-server's console format)
        parts = line.split("\t")
        if len(parts) < 6:
            continue
        with contextlib.suppress(ValueError):
            yield parts[4], json.loads(parts[5])


def attribute(records: list[dict[str, Any]], target: Target) -> None:
    """Node that hosted each room, jobs assigned for it and the workers that took them (livekit logs)."""
    worker_node: dict[str, str] = {}
    room_node: dict[str, str] = {}
    jobs: dict[str, dict[str, str]] = defaultdict(dict)  # room -> job id -> worker id
    for node, path in target.node_logs.items():
        for message, fields in _log_events(path):
            if message == "worker registered" and "workerID" in fields:
                worker_node[fields["workerID"]] = node
            elif message == "assigned job to worker" and "room" in fields:
                jobs[fields["room"]][fields.get("jobID", "?")] = fields.get("workerID", "?")
            elif message == "starting RTC session" and "room" in fields:
                room_node.setdefault(fields["room"], node)
    for record in records:
        room = record.get("room")
        if room is None or not target.node_logs:
            continue
        assigned = jobs.get(room, {})
        record["node"] = room_node.get(room)
        record["jobs_assigned"] = len(assigned)
        # A worker is named by the node it registered on where we know that node's worker, else by its id.
        record["workers"] = sorted(
            {target.node_workers.get(worker_node.get(w, ""), w) for w in assigned.values()}
        )
        # The agent's identity is `agent-<job id>`: the worker of the job whose agent the candidate saw.
        agents = [a.removeprefix("agent-") for a in record.get("agents_seen", [])]
        record["worker"] = next(
            (
                target.node_workers.get(worker_node.get(assigned[a], ""), assigned[a])
                for a in agents
                if a in assigned
            ),
            record["workers"][0] if record["workers"] else None,
        )


def _aware(moment: datetime) -> datetime:
    """Naive store timestamps are UTC; make them comparable with aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def from_store(records: list[dict[str, Any]], database_url: str) -> None:
    """Tool calls that took effect before the greeting had played (the guard opens after it), refusals."""
    from interviewer.store import Store, fleet

    store = Store(database_url)
    try:
        for record in records:
            interview_id = record.get("interview_id")
            if interview_id is None:
                continue
            turns = store.turns(interview_id)
            greeting_end = next((_aware(t.ended_at) for t in turns if t.speaker == "agent"), None)
            events = store.tool_events(interview_id)
            effective = [e for e in events if e.outcome == "ok"]
            record["tool_calls"] = len(effective)
            # Without a stored greeting no call can be shown to come after it: each then counts as before
            # the guard (the safe side), and the missing greeting is counted on its own.
            record["greeting_stored"] = greeting_end is not None
            record["tool_calls_before_guard"] = sum(
                1 for e in effective if greeting_end is None or _aware(e.at) < greeting_end
            )
            record["guard_refusals"] = sum(1 for e in events if e.outcome == "refused")
            interview = store.get_interview(interview_id)
            if interview is not None:
                record["status"] = interview.status.value
                record["end_reason"] = interview.end_reason
            lease = fleet.lease_of(store, interview_id)  # takeovers > 0: another job took it over
            record["lease_takeovers"] = lease.takeovers if lease is not None else None
            record["lease_job_id"] = lease.job_id if lease is not None else None
    finally:
        store.close()
