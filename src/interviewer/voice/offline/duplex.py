"""Both sides of a spoken exchange in one process, through a real livekit-server room.

The agent side is a real `AgentSession` (whatever the caller built, e.g. the offline engine's) started on a
room connection; the candidate side publishes a microphone that always sends 20 ms frames (espeak-ng speech
when asked, silence otherwise). Its send queue is long, so a late turn of the event loop (which it shares
with the agent) does not leave gaps in the audio, and its stamps add what is queued ahead of a frame, so
they say when the frame leaves. It stamps every frame of the agent's audio as it arrives. Used by
the barge-in tests and bench/barge_in.py to see what a candidate hears when they talk over the interviewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import numpy.typing as npt
from livekit import api, rtc
from livekit.agents import (
    Agent,
    AgentFalseInterruptionEvent,
    AgentSession,
    AgentStateChangedEvent,
    StopResponse,
    UserInputTranscribedEvent,
    llm,
    room_io,
)

SAMPLE_RATE = 48_000
FRAME = SAMPLE_RATE // 50  # 20 ms: half the awaits of 10 ms frames, for a loop shared with the agent
QUEUE_MS = 500  # the microphone's send queue: rides out stalls of the loop shared with the agent
AUDIBLE_RMS = 300.0  # int16 RMS of a received agent frame that counts as speech
AGENT, CANDIDATE = "agent", "candidate"


def room_token(url_key: str, secret: str, room: str, identity: str, *, agent: bool = False) -> str:
    grants = api.VideoGrants(room_join=True, room=room, agent=agent)
    return (
        api.AccessToken(url_key, secret)
        .with_identity(identity)
        .with_kind("agent" if agent else "standard")
        .with_ttl(timedelta(minutes=10))
        .with_grants(grants)
        .to_jwt()
    )


@dataclass
class Said:
    started: float  # monotonic time the clip's first frame leaves the microphone
    ended: float | None = None


@dataclass
class Heard:
    at: list[float] = field(default_factory=list)  # arrival (monotonic) of each agent frame
    rms: list[float] = field(default_factory=list)

    def audible_since(self, since: float) -> float | None:
        """First audible frame at or after `since`."""
        for at, rms in zip(self.at, self.rms, strict=True):
            if at >= since and rms >= AUDIBLE_RMS:
                return at
        return None

    def quiet_from(self, since: float, hold: float = 0.5) -> float | None:
        """Start of the first quiet stretch of at least `hold` seconds at or after `since`."""
        start: float | None = None
        for at, rms in zip(self.at, self.rms, strict=True):
            if at < since:
                continue
            if rms >= AUDIBLE_RMS:
                start = None
            elif start is None:
                start = at
            elif at - start >= hold:
                return start
        return None


class ProbeCandidate:
    def __init__(self) -> None:
        self.room = rtc.Room()
        self.source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=QUEUE_MS)
        self.heard = Heard()
        self._clips: asyncio.Queue[tuple[npt.NDArray[np.int16], Said, asyncio.Event]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def join(self, url: str, token: str) -> None:
        self.room.on("track_subscribed", self._on_track)
        await self.room.connect(url, token)
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self.source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, options)
        self._tasks.append(asyncio.create_task(self._microphone()))

    def _on_track(
        self, track: rtc.Track, _pub: rtc.RemoteTrackPublication, who: rtc.RemoteParticipant
    ) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and who.identity == AGENT:
            self._tasks.append(asyncio.create_task(self._record(track)))

    async def _record(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream.from_track(track=track, sample_rate=SAMPLE_RATE, num_channels=1)
        try:
            async for event in stream:
                samples = np.frombuffer(event.frame.data, dtype=np.int16).astype(np.float64)
                self.heard.at.append(time.monotonic())
                self.heard.rms.append(float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0)
        finally:
            await stream.aclose()

    async def _send(self, samples: npt.NDArray[np.int16]) -> None:
        await self.source.capture_frame(rtc.AudioFrame(samples.tobytes(), SAMPLE_RATE, 1, FRAME))

    async def _microphone(self) -> None:
        silence = np.zeros(FRAME, dtype=np.int16)
        while True:
            try:
                pcm, said, done = self._clips.get_nowait()
            except asyncio.QueueEmpty:
                await self._send(silence)
                continue
            padded = np.concatenate([pcm, np.zeros((-pcm.size) % FRAME, dtype=np.int16)])
            for start in range(0, padded.size, FRAME):
                await self._send(padded[start : start + FRAME])
                if start == 0:  # it leaves once what was queued ahead of it has
                    said.started = time.monotonic() + self.source.queued_duration - FRAME / SAMPLE_RATE
            said.ended = time.monotonic() + self.source.queued_duration
            done.set()

    async def say(self, pcm: npt.NDArray[np.int16], *, wait: bool = True) -> Said:
        """Queue 48 kHz speech; returns its stamps once the last frame has left (with `wait`)."""
        said, done = Said(started=float("nan")), asyncio.Event()
        await self._clips.put((pcm, said, done))
        if wait:
            await done.wait()
            assert said.ended is not None
            await asyncio.sleep(max(0.0, said.ended - time.monotonic()))  # what is queued plays out
        return said

    async def wait_audible(self, since: float, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.heard.audible_since(since)
            if found is not None:
                return found
            await asyncio.sleep(0.02)
        return None

    async def leave(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.source.aclose()
        await self.room.disconnect()


class Listener(Agent):
    """An agent that speaks only when told to (`session.say`) and never replies to a turn: what a barge-in
    leaves behind is the candidate's turn, and nothing else happens."""

    def __init__(self) -> None:
        super().__init__(instructions="Listen.")

    async def on_user_turn_completed(self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage) -> None:
        raise StopResponse()


async def start_agent(session: AgentSession[None], agent: Agent, url: str, token: str) -> rtc.Room:
    """Connect as the agent and start `session` on the room, bound to the candidate's microphone."""
    room = rtc.Room()
    await room.connect(url, token)
    options = room_io.RoomOptions(participant_identity=CANDIDATE, close_on_disconnect=False)
    await session.start(agent, room=room, room_options=options)
    return room


@dataclass
class TalkOver:
    """What happened when the candidate spoke over the agent's speech."""

    interrupted: bool  # the agent's speech handle was interrupted (stopped for good)
    resumed: int  # false interruptions after which the agent's speech resumed
    user_turns: list[str]  # what the session transcribed from the candidate meanwhile (final transcripts)
    onset: float  # monotonic: the candidate's first frame was captured
    said_until: float  # ... and the last
    paused_at: float | None  # the agent went from speaking to listening (its decision)
    heard_quiet_at: float | None  # start of the first 0.5 s of silence the candidate heard after the onset
    heard_again_at: float | None  # first agent audio the candidate heard after its own speech ended

    @property
    def decided_s(self) -> float | None:
        return None if self.paused_at is None else self.paused_at - self.onset

    @property
    def heard_stop_s(self) -> float | None:
        return None if self.heard_quiet_at is None else self.heard_quiet_at - self.onset


def trim(pcm: npt.NDArray[np.int16], level: int = 300) -> npt.NDArray[np.int16]:
    """Without leading and trailing silence, so a clip's first frame is speech."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > level)
    return pcm[loud[0] : loud[-1] + 1] if loud.size else pcm[:0]


async def talk_over(
    session: AgentSession[None],
    candidate: ProbeCandidate,
    agent_line: str,
    candidate_pcm: npt.NDArray[np.int16],
    *,
    after_s: float = 1.5,
    allow_interruptions: bool = True,
    timeout: float = 60.0,
) -> TalkOver:
    """The agent says `agent_line`; once the candidate has heard `after_s` of it, the candidate says
    `candidate_pcm` (48 kHz). Returns when the agent's speech is over (played out or interrupted)."""
    resumed: list[bool] = []
    turns: list[str] = []
    paused: list[float] = []

    def on_false(event: AgentFalseInterruptionEvent) -> None:
        resumed.append(event.resumed)

    def on_transcript(event: UserInputTranscribedEvent) -> None:
        if event.is_final and event.transcript:
            turns.append(event.transcript)

    def on_state(event: AgentStateChangedEvent) -> None:
        if event.old_state == "speaking" and event.new_state == "listening":
            paused.append(time.monotonic())

    session.on("agent_false_interruption", on_false)
    session.on("user_input_transcribed", on_transcript)
    session.on("agent_state_changed", on_state)
    try:
        started = time.monotonic()
        handle = session.say(agent_line, allow_interruptions=allow_interruptions)
        first = await candidate.wait_audible(started, timeout)
        if first is None:
            raise TimeoutError("the agent's speech was never heard")
        while candidate.heard.at[-1] - first < after_s:
            await asyncio.sleep(0.02)
        said = await candidate.say(candidate_pcm)
        await asyncio.wait_for(handle.wait_for_playout(), timeout)
        assert said.ended is not None
        deadline = time.monotonic() + timeout
        while handle.interrupted and not turns and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # what stopped the agent is transcribed: wait for it
        heard_again = candidate.heard.audible_since(said.ended + 0.1)
        return TalkOver(
            interrupted=handle.interrupted,
            resumed=sum(resumed),
            user_turns=turns,
            onset=said.started,
            said_until=said.ended,
            paused_at=next((p for p in paused if p >= said.started), None),
            heard_quiet_at=candidate.heard.quiet_from(said.started),
            heard_again_at=heard_again,
        )
    finally:
        session.off("agent_false_interruption", on_false)
        session.off("user_input_transcribed", on_transcript)
        session.off("agent_state_changed", on_state)
