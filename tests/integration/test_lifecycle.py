"""Zero-orphan lifecycle, truthful health and graceful drain, on the real stack (livekit-server, emulator,
api, a fresh agent worker per cycle). Driver and checks: tests/fixtures/lifecycle.py.

`LIFECYCLE_CYCLES` cycles (default: one of each event; a cycle costs 30-50 s on the 2-core CI machine, so
CI runs 6 and `bench/lifecycle.py --cycles 20` (or 200) runs more with the same checks) rotate SIGTERM,
SIGINT, SIGKILL of the worker parent, a job process crashing, livekit-server restarted and a second SIGTERM
during the drain, with 1-3 live interviews each; one test item per cycle. After every cycle no process of
its group/session is left within 5 s; a drain stores every report and deletes every room, /readyz flips
within 100 ms and says 503 while interviews are still live, /healthz stays 200; a SIGKILL or a forced exit
keeps the transcript up to the last finished turn.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fixtures.lifecycle import EVENTS, Rig, event_for, interviews_for, orphans_finished, run_cycle
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.integration

CYCLES = int(os.environ.get("LIFECYCLE_CYCLES", str(len(EVENTS))))


@pytest.fixture(scope="module")
def rig(shared_stack: Stack) -> Iterator[Rig]:
    """The session stack without its own worker (each cycle registers exactly one), restored afterwards."""
    stack = shared_stack
    stack.stop_worker()
    try:
        yield Rig(
            api_url=stack.api_url,
            emulator_host=stack.emulator_host,
            livekit_process=stack.livekit.process,
            livekit=stack.livekit.config,
            env=stack.env,
            workdir=stack.workdir,
            store=stack.store,
        )
    finally:
        # The last cycles' killed workers left interviews that hold slots until finished: not the next test's.
        orphans_finished(stack.store)
        if stack.worker is None:
            stack.start_worker()


@pytest.mark.parametrize("cycle", range(CYCLES), ids=lambda c: f"{c:02}-{event_for(c)}-{interviews_for(c)}")
async def test_cycle_leaves_nothing_behind(rig: Rig, cycle: int) -> None:
    result = await run_cycle(rig, event_for(cycle), interviews_for(cycle))
    print(
        f"\ncycle {cycle:2} {result.event:15} interviews={result.interviews} pids={result.pids_before} "
        f"ready={result.worker_ready_s:.1f}s drain={result.drain_s} forced={result.forced_exit_s} "
        f"flip_ms={result.readyz_flip_ms} "
        f"orphan_free={result.orphan_free_s}s took={result.seconds:.1f}s"
    )
    assert not result.leftover
    # The worker's health port answered before its models were loaded, and said "not ready" then.
    assert result.healthz_before_models, "/healthz answered only after the models were loaded"
    # The job processes were there to be counted: parent, forkserver, resource tracker, one per interview.
    assert result.pids_before >= 3 + result.interviews
