"""One bench session, as the candidate sees it: join the room, hear the greeting, answer, leave.

It runs in the bench's own process, or in the driver inside netimpair's namespace (driver.py), so its
input is a plain JSON-able spec and its output a plain dict: the server-side columns are added later
(attribution.py).

Scenarios (adversarial timing, `--scenario`, several may be mixed round-robin):
- candidate_first: join and publish the microphone at once (the app's order);
- agent_first: join without a microphone, publish only once the agent is in the room;
- observer_first: another participant (no dispatch in its token) joins the room before the candidate;
- talk_over: the candidate starts answering as soon as the greeting is audible;
- leave_rejoin: leave as soon as the greeting is audible, rejoin with the same token, then answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from livekit import rtc

from interviewer.bench.candidate import Candidate, Interview

SCENARIOS = ("candidate_first", "agent_first", "observer_first", "talk_over", "leave_rejoin")
ANSWERS = (
    "Yes, I am ready. Thank you for having me.",
    "I am a backend engineer and I build payment services in Python.",
    "Let us stop here. Please end the interview.",
)
AGENT_KIND = rtc.ParticipantKind.PARTICIPANT_KIND_AGENT


async def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll a condition until true or the deadline; True if it came true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def run_session(spec: dict[str, Any]) -> dict[str, Any]:
    """Join, greet, answer, leave: what the candidate saw (the server-side columns come later)."""
    scenario: str = spec["scenario"]
    bound: float = spec["audio_bound"]
    interview = Interview(**spec["interview"])
    out: dict[str, Any] = {"agents_seen": [], "replies_s": [], "underruns": 0, "max_agents_at_once": 0}
    agents: set[str] = set()
    present: set[str] = set()  # agents in the room right now: two at once is a duplicate job running

    def note_agent(participant: rtc.RemoteParticipant) -> None:
        if participant.kind == AGENT_KIND:
            agents.add(participant.identity)
            present.add(participant.identity)
            out["max_agents_at_once"] = max(out["max_agents_at_once"], len(present))

    def watch(room: rtc.Room) -> None:
        def gone(participant: rtc.RemoteParticipant) -> None:
            present.discard(participant.identity)

        room.on("participant_connected", note_agent)
        room.on("participant_disconnected", gone)

    observer: rtc.Room | None = None
    candidate = Candidate(interview)
    watch(candidate.room)
    rejoined: Candidate | None = None
    try:
        if scenario == "observer_first":
            observer = rtc.Room()
            await observer.connect(interview.livekit_url, spec["observer_token"])
        await candidate.join(publish=scenario != "agent_first")
        # An agent already in the room when we joined raises no participant_connected.
        for participant in candidate.room.remote_participants.values():
            note_agent(participant)
        timings = candidate.timings
        if scenario == "agent_first" and await wait_until(lambda: timings.agent_joined is not None, bound):
            await candidate.publish_microphone()
        heard = await wait_until(lambda: timings.first_agent_audio is not None, bound)
        talker = candidate
        if scenario == "talk_over" and heard:
            await candidate.say(ANSWERS[0])  # over the greeting
        elif scenario == "leave_rejoin" and heard:
            await candidate.leave()
            rejoined = Candidate(interview)
            watch(rejoined.room)
            left_at = time.time()
            await rejoined.join()
            out["rejoin_s"] = time.time() - left_at
            room = rejoined.room
            out["rejoin_agent_present"] = await wait_until(
                lambda: any(p.kind == AGENT_KIND for p in room.remote_participants.values()), bound
            )
            talker = rejoined
        out["greeted"] = heard and await talker.wait_agent_turn_done(spec["turn_timeout"])
        if out["greeted"]:
            for text in ANSWERS[: spec["answers"]]:
                answer = await talker.say(text)
                if not await talker.wait_agent_turn_done(spec["turn_timeout"]):
                    break
                reply = talker.timings.reply_to(answer)
                if reply is not None:
                    out["replies_s"].append(reply.seconds)
        out["underruns"] = candidate.timings.underruns + (rejoined.timings.underruns if rejoined else 0)
    except Exception as error:  # the session failed: say how, keep the rest of the run going
        out["error"] = f"{type(error).__name__}: {error}"
    finally:
        for member in (candidate, rejoined):
            if member is not None:
                with contextlib.suppress(Exception):
                    await member.leave()
        if observer is not None:
            with contextlib.suppress(Exception):
                await observer.disconnect()
    t = candidate.timings
    out.update(
        joined_at=t.joined,
        dispatch_s=t.dispatch_seconds,
        greeting_s=t.greeting_seconds,
        audio_ok=t.greeting_seconds is not None and t.greeting_seconds <= bound,
        agents_seen=sorted(agents),
    )
    return out
