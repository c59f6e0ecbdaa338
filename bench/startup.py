"""Startup benchmark: N sequential voice sessions through the real local stack (`interviewer up`).

For each session a simulated candidate signs in, gets a token from the api, joins, waits for the greeting,
answers once, then asks to stop. Printed and written to bench/results/startup.json:
- dispatch: candidate joined → agent participant joined
- greeting: candidate joined → first audible frame of the greeting
- response: end of the candidate's answer → first audible agent frame after it
- audio-startup success: the agent transcribed the first answer AND the candidate heard the greeting

The candidate's stamps are wall-clock and taken as its audio leaves the microphone for WebRTC and as the
agent's arrives (candidate.py says what that leaves out). Before issue 9 the end of an answer was stamped when
its last frame entered a 1 s queue, so responses from older runs of this bench read about a second slow.
bench/latency.py measures replies properly, with the agent's stage breakdown.

Usage: uv run python bench/startup.py [--sessions 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from interviewer.bench.candidate import interview_by_voice
from interviewer.bench.speech_sim import word_error_rate
from interviewer.procs import free_port, group_alive
from interviewer.store import Store

FIRST_ANSWER = "Yes, I am ready. Thank you for having me."
STOP = "Let us stop here. Please end the interview."
RESULTS = Path(__file__).parent / "results" / "startup.json"


def start_stack(data_dir: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "INTERVIEWER_DATA_DIR": str(data_dir), "INTERVIEWER_MODE": "development"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "interviewer.cli", "up", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        print("  up |", line.rstrip())
        if "Interviewer is up" in line:
            return proc
        if line.startswith("!!") or time.monotonic() > deadline:
            break
    stop_stack(proc)
    raise SystemExit("the stack did not come up")


def stop_stack(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    if group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float | int | None]:
    return {
        "n": len(values),
        "p50": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "max": max(values) if values else None,
        "mean": statistics.fmean(values) if values else None,
    }


async def run(sessions: int, api_url: str, emulator_host: str, store: Store) -> list[dict[str, Any]]:
    results = []
    for index in range(sessions):
        started = time.monotonic()
        try:
            run_ = await interview_by_voice(
                api_url, emulator_host, "backend-engineer", [FIRST_ANSWER, STOP], end_timeout=60
            )
        except Exception as error:  # a failed session is a data point, not the end of the bench
            results.append({"session": index, "error": repr(error)})
            print(f"session {index + 1}/{sessions}: ERROR {error!r}")
            continue
        turns = [t.text for t in store.turns(run_.interview.interview_id) if t.speaker == "candidate"]
        first = turns[0] if turns else ""
        transcribed = bool(first) and word_error_rate(FIRST_ANSWER, first) <= 0.5
        heard = run_.timings.first_agent_audio is not None
        timings = run_.timings
        result: dict[str, Any] = {
            "session": index,
            "dispatch_s": timings.dispatch_seconds,
            "greeting_s": timings.greeting_seconds,
            "response_s": timings.response_seconds[0] if timings.response_seconds else None,
            "heard_greeting": heard,
            "first_answer_transcribed": transcribed,
            "first_answer_text": first,
            "agent_left": run_.agent_left,
            "wall_s": time.monotonic() - started,
        }
        results.append(result)
        print(
            f"session {index + 1}/{sessions}: dispatch {result['dispatch_s']}, "
            f"greeting {result['greeting_s']}, response {result['response_s']}, "
            f"heard={heard} transcribed={transcribed}"
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    port = free_port()
    stack = start_stack(data_dir, port)
    try:
        api_url = f"http://127.0.0.1:{port}"
        config = httpx.get(f"{api_url}/v1/config", timeout=5).json()
        emulator_host = re.sub(r"^https?://", "", config["firebase"]["emulatorUrl"]).rstrip("/")
        store = Store(f"sqlite:///{(data_dir / 'interviewer.db').resolve()}")
        results = asyncio.run(run(args.sessions, api_url, emulator_host, store))
    finally:
        stop_stack(stack)

    ok = [r for r in results if "error" not in r]
    success = [r for r in ok if r["heard_greeting"] and r["first_answer_transcribed"]]
    report = {
        "sessions": args.sessions,
        "machine": {"cores": os.cpu_count()},
        "dispatch_s": summary([r["dispatch_s"] for r in ok if r["dispatch_s"] is not None]),
        "join_to_greeting_audio_s": summary([r["greeting_s"] for r in ok if r["greeting_s"] is not None]),
        "speech_end_to_agent_audio_s": summary([r["response_s"] for r in ok if r["response_s"] is not None]),
        "audio_startup_success_rate": len(success) / args.sessions,
        "errors": [r for r in results if "error" in r],
        "runs": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k not in ("runs",)}, indent=2))
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
