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
In every scenario a lost connection (not an ending: see disconnects.py) is followed by a rejoin through the
api, as the web app does, and the session goes on with the agent that takes the interview over. (Over an
impaired network the api is out of the candidate's reach: there such a rejoin fails, and says so.)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from livekit import rtc

from interviewer.bench.candidate import (
    Candidate,
    Interview,
    audible_spans,
    rejoin_interview,
    voices_at_once,
)

SCENARIOS = ("candidate_first", "agent_first", "observer_first", "talk_over", "leave_rejoin")
ANSWERS = (
    "Yes, I am ready. Thank you for having me.",
    "I am a backend engineer and I build payment services in Python.",
    "Let us stop here. Please end the interview.",
)
AGENT_KIND = rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
# After a lost connection (a node restarted): rejoin for about as long as livekit-client's default
# reconnect policy keeps a browser trying, and at most this many times in one session.
REJOIN_WINDOW_S = 45.0
MAX_RECOVERIES = 2
TAKEOVER_WAIT_S = 30.0  # an agent that left a room still open: how long to wait for its replacement


async def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll a condition until true or the deadline; True if it came true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def rejoin_after_loss(api_url: str, interview: Interview) -> Candidate:
    """Rejoin as the web app does after a lost connection: a fresh token from the api, then the room,
    retried with a backoff while the window lasts (the node may still be restarting)."""
    deadline = time.monotonic() + REJOIN_WINDOW_S
    delay = 0.5
    while True:
        member: Candidate | None = None
        try:
            fresh = await asyncio.to_thread(rejoin_interview, api_url, interview)
            member = Candidate(fresh)
            await member.join()
            return member
        except Exception:
            if member is not None:
                with contextlib.suppress(Exception):
                    await member.leave()
            if time.monotonic() + delay > deadline:
                raise
            await asyncio.sleep(delay)  # a client's backoff, not synchronisation
            delay = min(delay * 2, 5.0)


def _back_or_gone(member: Candidate) -> bool:
    return member.in_room or member.disconnected


async def agent_turn_done(
    talker: Candidate,
    api_url: str,
    turn_timeout: float,
    *,
    recoveries: list[str],
    watch: Callable[[Candidate], Candidate] = lambda member: member,
) -> tuple[Candidate, bool]:
    """Until the agent's turn is over, across what a candidate's app rides out: a lost connection (rejoin
    through the api) and an agent that left a room still open (wait for the one that takes the interview
    over). Then the turn waited for is the new agent's: its apology and the question again. Returns who is
    talking now, and whether the turn ended; each recovery is noted in `recoveries`."""
    done = await talker.wait_agent_turn_done(turn_timeout)
    while not done and len(recoveries) < MAX_RECOVERIES:
        # The client may still be reconnecting by itself: wait until it is back, or disconnected for good.
        await wait_until(partial(_back_or_gone, talker), REJOIN_WINDOW_S)
        if talker.lost_connection:
            talker = watch(await rejoin_after_loss(api_url, talker.interview))
            recoveries.append("rejoined")
        elif talker.in_room and await talker.wait_agent_back(TAKEOVER_WAIT_S):
            recoveries.append("agent replaced")
        elif talker.lost_connection:
            continue  # lost while waiting for a take-over: rejoin on the next pass
        else:
            break  # the room was closed: the interview is over
        done = await talker.wait_agent_turn_done(turn_timeout)
    return talker, done


async def run_session(spec: dict[str, Any]) -> dict[str, Any]:
    """Join, greet, answer, leave: what the candidate saw (the server-side columns come later)."""
    scenario: str = spec["scenario"]
    bound: float = spec["audio_bound"]
    interview = Interview(**spec["interview"])
    out: dict[str, Any] = {
        "agents_seen": [],
        "replies_s": [],
        "underruns": 0,
        "max_agents_at_once": 0,
        "recoveries": [],
    }
    agents: set[str] = set()
    present: set[str] = set()  # agents in the room right now: two at once is a duplicate job running

    def note_agent(participant: rtc.RemoteParticipant) -> None:
        if participant.kind == AGENT_KIND:
            agents.add(participant.identity)
            present.add(participant.identity)
            out["max_agents_at_once"] = max(out["max_agents_at_once"], len(present))

    def watch(member: Candidate) -> Candidate:
        def gone(participant: rtc.RemoteParticipant) -> None:
            present.discard(participant.identity)

        if member not in members:
            members.append(member)
        member.room.on("participant_connected", note_agent)
        member.room.on("participant_disconnected", gone)
        for participant in member.room.remote_participants.values():
            note_agent(participant)  # one already in the room when we joined raises no event
        return member

    async def turn_done(talker: Candidate) -> tuple[Candidate, bool]:
        talker, done = await agent_turn_done(
            talker, spec["api_url"], spec["turn_timeout"], recoveries=out["recoveries"], watch=watch
        )
        present.intersection_update(
            p.identity for p in talker.room.remote_participants.values() if p.kind == AGENT_KIND
        )  # the agent of a lost connection, or one that died, is not in the room any more
        return talker, done

    observer: rtc.Room | None = None
    members: list[Candidate] = []
    candidate = Candidate(interview)
    try:
        if scenario == "observer_first":
            observer = rtc.Room()
            await observer.connect(interview.livekit_url, spec["observer_token"])
        await candidate.join(publish=scenario != "agent_first")
        watch(candidate)
        timings = candidate.timings
        if scenario == "agent_first" and await wait_until(lambda: timings.agent_joined is not None, bound):
            await candidate.publish_microphone()
        heard = await wait_until(lambda: timings.first_agent_audio is not None, bound)
        talker = candidate
        if scenario == "talk_over" and heard:
            await candidate.say(ANSWERS[0])  # over the greeting
        elif scenario == "leave_rejoin" and heard:
            await candidate.leave()
            left_at = time.time()
            talker = Candidate(interview)
            await talker.join()
            watch(talker)
            out["rejoin_s"] = time.time() - left_at
            room = talker.room
            out["rejoin_agent_present"] = await wait_until(
                lambda: any(p.kind == AGENT_KIND for p in room.remote_participants.values()), bound
            )
        talker, greeted = await turn_done(talker)
        out["greeted"] = heard and greeted
        if out["greeted"]:
            for text in ANSWERS[: spec["answers"]]:
                answer = await talker.say(text)
                talker, done = await turn_done(talker)
                if not done:
                    break
                reply = talker.timings.reply_to(answer)
                if reply is not None:
                    out["replies_s"].append(reply.seconds)
        out["underruns"] = sum(member.timings.underruns for member in members)
    except Exception as error:  # the session failed: say how, keep the rest of the run going
        out["error"] = f"{type(error).__name__}: {error}"
    finally:
        for member in members or [candidate]:
            with contextlib.suppress(Exception):
                await member.leave()
        if observer is not None:
            with contextlib.suppress(Exception):
                await observer.disconnect()
    heard_by: dict[str, list[float]] = {}
    for member in members or [candidate]:
        for agent, times in member.timings.audible_by.items():
            heard_by.setdefault(agent, []).extend(times)
    t = candidate.timings
    out.update(
        voices_at_once=voices_at_once(heard_by),
        audible_spans={
            agent: [[round(start, 3), round(end, 3)] for start, end in audible_spans(times)]
            for agent, times in heard_by.items()
        },
        joined_at=t.joined,
        dispatch_s=t.dispatch_seconds,
        greeting_s=t.greeting_seconds,
        audio_ok=t.greeting_seconds is not None and t.greeting_seconds <= bound,
        agents_seen=sorted(agents),
    )
    return out
