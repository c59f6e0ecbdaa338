"""Barge-in and preemptive generation, timed through a real livekit-server room.

    uv run python bench/barge_in.py [--trials 8]   # prints figures, writes bench/results/barge_in.{json,png}

The offline session (its real turn handling, models and audio path) runs in this process as the agent; a
candidate in the same room speaks espeak-ng over what the agent says (voice/offline/duplex.py):

- barge-in: a sentence over the interviewer. `decided` = the candidate's first speech frame leaving → the
  agent pausing its audio (speaking → listening); `heard stop` = → the first 0.5 s of silence the candidate
  hears. The goal is 0.3 s.
- backchannel: "mm-hm" / "uh-huh" over the interviewer: it must not end the interviewer's speech (paused
  and resumed is fine). `gap` = how long the candidate heard nothing after their backchannel.
- preemptive: the real interviewer agent replying to a candidate's answer, with preemptive generation on
  and off: end of the candidate's speech → the interviewer's first audio, as the candidate hears it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from livekit import rtc
from livekit.agents import Agent, AgentSession, llm

from interviewer.agent.interviewer import InterviewerAgent
from interviewer.agent.runtime import InterviewRuntime
from interviewer.agent.wiring import wire_session
from interviewer.bench.speech_sim import espeak_pcm
from interviewer.config import load_settings
from interviewer.interview.plans import load_role
from interviewer.livekit_server import LiveKitServerConfig, build_livekit_process, wait_ready
from interviewer.store import Store
from interviewer.voice.engine import MAX_TOOL_STEPS, SPEECH_KEY, build_session, offline_turn_handling
from interviewer.voice.offline.duplex import (
    AGENT,
    CANDIDATE,
    SAMPLE_RATE,
    Listener,
    ProbeCandidate,
    room_token,
    start_agent,
    talk_over,
    trim,
)
from interviewer.voice.offline.engine import OfflineSpeech
from interviewer.voice.offline.llm import InterviewerVoice, OfflineInterviewerLLM

RESULTS = Path(__file__).parent / "results"
AGENT_LINES = (
    "Let's move on to system design. Imagine you are building a service that stores every order a customer "
    "places, and the traffic doubles every month. Walk me through how you would split the data and keep "
    "the reads fast.",
    "Tell me about a time you disagreed with a decision your team made. What was the decision, what did "
    "you say, and how did it end? I am most interested in what you did yourself.",
)
BARGE_INS = (
    "Sorry, can I stop you there? I think I misunderstood the last question.",
    "Wait, could you repeat the part about the traffic?",
    "Actually, I have a question about that.",
    "Sorry to interrupt, but I already covered that earlier.",
)
BACKCHANNELS = ("Mm-hmm.", "Uh-huh.")
ANSWER = "I would start by reading the error logs of the payment service and"


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))], 3)


def summary(values: Sequence[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": percentile(values, 100),
        "each": [round(v, 3) for v in values],
    }


async def connect(
    server: LiveKitServerConfig, room: str, session: AgentSession[None], agent: Agent
) -> tuple[ProbeCandidate, rtc.Room]:
    candidate = ProbeCandidate()
    await candidate.join(server.url, room_token(server.api_key, server.api_secret, room, CANDIDATE))
    token = room_token(server.api_key, server.api_secret, room, AGENT, agent=True)
    return candidate, await start_agent(session, agent, server.url, token)


async def barge_ins(server: LiveKitServerConfig, speech: OfflineSpeech, trials: int) -> dict[str, Any]:
    settings = load_settings(INTERVIEWER_MODE="test")
    session = build_session(settings, {SPEECH_KEY: speech}, load_role("backend-engineer"), 10)
    candidate, agent_room = await connect(server, "barge-in", session, Listener())
    decided, heard, interrupted = [], [], 0
    kept, resumed, gaps = 0, 0, []
    outcomes: list[dict[str, Any]] = []  # what ended a line that a backchannel should not have
    try:
        # livekit ignores interruptions for the first 3 s a session speaks (aec_warmup_duration): in the
        # interview that is the greeting, which cannot be interrupted anyway. Spend it here.
        await session.say(AGENT_LINES[0], allow_interruptions=False).wait_for_playout()
        for trial in range(trials):
            line = AGENT_LINES[trial % len(AGENT_LINES)]
            pcm = trim(espeak_pcm(BARGE_INS[trial % len(BARGE_INS)], sample_rate=SAMPLE_RATE))
            outcome = await talk_over(session, candidate, line, pcm, after_s=1.0 + 0.3 * (trial % 4))
            interrupted += outcome.interrupted
            if outcome.decided_s is not None:
                decided.append(outcome.decided_s)
            if outcome.heard_stop_s is not None:
                heard.append(outcome.heard_stop_s)
            print(
                f"barge-in {trial + 1}/{trials}: {outcome.decided_s} / {outcome.heard_stop_s}",
                file=sys.stderr,
            )
    finally:
        await session.aclose()
        await candidate.leave()
        await agent_room.disconnect()
    # A fresh room for the backchannels, so nothing a barge-in left pending can end one of their lines.
    session = build_session(settings, {SPEECH_KEY: speech}, load_role("backend-engineer"), 10)
    candidate, agent_room = await connect(server, "backchannel", session, Listener())
    try:
        await session.say(AGENT_LINES[0], allow_interruptions=False).wait_for_playout()
        for trial in range(trials):
            line = AGENT_LINES[trial % len(AGENT_LINES)]
            pcm = trim(espeak_pcm(BACKCHANNELS[trial % len(BACKCHANNELS)], sample_rate=SAMPLE_RATE))
            outcome = await talk_over(session, candidate, line, pcm, after_s=1.0 + 0.3 * (trial % 4))
            kept += not outcome.interrupted and not outcome.user_turns
            resumed += outcome.resumed
            outcomes.append({"interrupted": outcome.interrupted, "turns": outcome.user_turns})
            if outcome.heard_again_at is not None:
                gaps.append(outcome.heard_again_at - outcome.said_until)
            print(f"backchannel {trial + 1}/{trials}: kept={not outcome.interrupted}", file=sys.stderr)
    finally:
        await session.aclose()
        await candidate.leave()
        await agent_room.disconnect()
    return {
        "barge_in": {
            "trials": trials,
            "interrupted": interrupted,
            "decided_s": summary(decided),
            "heard_stop_s": summary(heard),
        },
        "backchannel": {
            "trials": trials,
            "speech_kept": kept,
            "false_interruptions_resumed": resumed,
            "heard_gap_s": summary(gaps),
            "each": outcomes,
        },
    }


def seeded_agent(
    store: Store, interview_id: str
) -> tuple[InterviewerAgent, InterviewRuntime, llm.ChatContext]:
    plan = load_role("backend-engineer")
    store.open_interview(
        candidate_uid=f"uid-{interview_id}", name=None, email=None, interview_id=interview_id, role=plan.id,
        plan=plan.model_dump(mode="json"), duration_minutes=10, room=interview_id,
    )  # fmt: skip
    runtime = InterviewRuntime.create(store, interview_id=interview_id, plan=plan, duration_minutes=10)
    runtime.guard.greeting_finished()
    runtime.guard.agent_state_changed("listening")
    step = runtime.next_question()
    context = llm.ChatContext()
    call = llm.FunctionCall(call_id="call-1", name="next_question", arguments="{}")
    context.insert(
        [
            call,
            llm.FunctionCallOutput(
                call_id="call-1", name="next_question", output=step.model_dump_json(), is_error=False
            ),
        ]
    )
    context.add_message(role="assistant", content=step.say)
    return InterviewerAgent(runtime), runtime, context


async def preemptive(
    server: LiveKitServerConfig, speech: OfflineSpeech, trials: int, data_dir: Path
) -> dict[str, Any]:
    store = Store(f"sqlite:///{data_dir / 'bench.db'}")
    out: dict[str, Any] = {}
    pcm = trim(espeak_pcm(ANSWER, sample_rate=SAMPLE_RATE))
    for enabled in (False, True):
        replies = []
        for trial in range(trials):
            interview_id = f"pre-{int(enabled)}-{trial}"
            agent, runtime, context = seeded_agent(store, interview_id)
            await agent.update_chat_ctx(context)
            # build_session's session, with only preemptive generation switched
            voice = InterviewerVoice(role_title=runtime.plan.title, duration_minutes=10)
            turn_handling = offline_turn_handling()
            turn_handling["preemptive_generation"] = {"enabled": enabled, "preemptive_tts": enabled}
            session: AgentSession[None] = AgentSession(
                vad=speech.vad, stt=speech.stt, tts=speech.tts, llm=OfflineInterviewerLLM(voice),
                max_tool_steps=MAX_TOOL_STEPS, turn_handling=turn_handling,
            )  # fmt: skip
            wire_session(session, runtime)
            candidate, agent_room = await connect(server, interview_id, session, agent)
            try:
                said = await candidate.say(pcm)
                assert said.ended is not None
                heard = await candidate.wait_audible(said.ended, 20)
                if heard is not None:
                    replies.append(heard - said.ended)
            finally:
                await session.aclose()
                await candidate.leave()
                await agent_room.disconnect()
            print(f"preemptive={enabled} {trial + 1}/{trials}", file=sys.stderr)
        out["on" if enabled else "off"] = summary(replies)
    return out


def plot(results: dict[str, Any], path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    barge = results["barge_in"]
    axes[0].boxplot(
        [barge["decided_s"]["each"], barge["heard_stop_s"]["each"]],
        tick_labels=["agent paused", "candidate hears silence"],
    )
    axes[0].axhline(0.3, color="grey", linestyle="--", linewidth=0.8)
    axes[0].set_ylabel("seconds after the candidate starts talking")
    axes[0].set_title(f"barge-in ({barge['interrupted']}/{barge['trials']} stopped)", fontsize=9)
    pre = results["preemptive"]
    axes[1].boxplot([pre["off"]["each"], pre["on"]["each"]], tick_labels=["preemptive off", "preemptive on"])
    axes[1].set_ylabel("end of the candidate's speech → interviewer heard (s)")
    axes[1].set_title("reply after an answer (the turn ends after 1.6 s of silence)", fontsize=9)
    load = results["machine"]["loadavg_before"]
    fig.suptitle(f"Barge-in and preemptive generation through a real room (load {load[0]:.2f})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


async def main(trials: int) -> dict[str, Any]:
    logging.getLogger("livekit.plugins.silero").setLevel(logging.ERROR)
    load_before = os.getloadavg()
    started = time.perf_counter()
    settings = load_settings(INTERVIEWER_MODE="test")
    speech = OfflineSpeech.load(settings)
    with tempfile.TemporaryDirectory(prefix="barge-in-") as tmp:
        process, config = build_livekit_process(settings, Path(tmp))
        process.start()
        try:
            wait_ready(process, config, timeout=30)
            barge = await barge_ins(config, speech, trials)
            pre = await preemptive(config, speech, max(3, trials // 2), Path(tmp))
        finally:
            process.stop(timeout=10)
    return {
        "what": "barge-in stop time, backchannels kept, and preemptive generation's effect, in a real room",
        "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "seconds": round(time.perf_counter() - started, 1),
        **barge,
        "preemptive": pre,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=8)
    results = asyncio.run(main(parser.parse_args().trials))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "barge_in.json").write_text(json.dumps(results, indent=1) + "\n")
    plot(results, RESULTS / "barge_in.png")
    print(json.dumps({k: v for k, v in results.items()}, indent=1))
