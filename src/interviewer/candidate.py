"""A simulated candidate: signs in, asks the api for an interview, joins the room and answers by voice.

Used by the end-to-end tests and `bench/startup.py`. It behaves like a browser would: one microphone track
(source MICROPHONE) that always sends audio (silence between answers, as a real microphone does), it
records everything the agent says, and it answers with espeak-ng speech, a different voice from the agent's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from livekit import rtc

from interviewer.speech_sim import espeak_pcm, wav_bytes

SAMPLE_RATE = 48_000
FRAME_SAMPLES = SAMPLE_RATE // 100  # 10 ms
SPEECH_RMS = 300.0  # int16 RMS above which an agent frame counts as speech
AGENT_STATE = "lk.agent.state"


class CandidateError(RuntimeError):
    pass


@dataclass
class Timings:
    """Monotonic timestamps (seconds) of what the candidate saw; None if it never happened."""

    joined: float | None = None
    agent_joined: float | None = None
    first_agent_audio: float | None = None
    answer_ends: list[float] = field(default_factory=list)
    agent_audio_after_answer: list[float] = field(default_factory=list)

    @property
    def dispatch_seconds(self) -> float | None:
        if self.joined is None or self.agent_joined is None:
            return None
        return max(0.0, self.agent_joined - self.joined)

    @property
    def greeting_seconds(self) -> float | None:
        if self.joined is None or self.first_agent_audio is None:
            return None
        return self.first_agent_audio - self.joined

    @property
    def response_seconds(self) -> list[float]:
        return [
            heard - said for said, heard in zip(self.answer_ends, self.agent_audio_after_answer, strict=False)
        ]


@dataclass
class Interview:
    interview_id: str
    room: str
    livekit_url: str
    token: str
    uid: str
    id_token: str


@dataclass
class CandidateRun:
    interview: Interview
    timings: Timings
    answers_spoken: list[str]
    agent_audio: npt.NDArray[np.int16]
    agent_left: bool

    def agent_wav(self) -> bytes:
        return wav_bytes(self.agent_audio, SAMPLE_RATE)


def sign_in_anonymously(emulator_host: str) -> tuple[str, str]:
    """(uid, id_token) from the Firebase Auth emulator's REST API, as the web client's SDK would get."""
    url = f"http://{emulator_host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any"
    response = httpx.post(url, json={"returnSecureToken": True}, timeout=10)
    response.raise_for_status()
    body = response.json()
    return str(body["localId"]), str(body["idToken"])


def start_interview(
    api_url: str, id_token: str, role: str, *, duration_minutes: int = 10, uid: str = ""
) -> Interview:
    response = httpx.post(
        f"{api_url}/v1/interviews",
        json={"role": role, "duration_minutes": duration_minutes},
        headers={"Authorization": f"Bearer {id_token}"},
        timeout=10,
    )
    if response.status_code != 201:
        raise CandidateError(f"POST /v1/interviews: {response.status_code} {response.text}")
    body = response.json()
    return Interview(
        interview_id=body["interview_id"],
        room=body["room"],
        livekit_url=body["livekit_url"],
        token=body["participant_token"],
        uid=uid,
        id_token=id_token,
    )


class Microphone:
    """Always sends 10 ms frames: queued speech when there is some, silence otherwise."""

    def __init__(self) -> None:
        self.source = rtc.AudioSource(SAMPLE_RATE, 1)
        self._queue: asyncio.Queue[tuple[npt.NDArray[np.int16], asyncio.Future[float]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def say(self, pcm: npt.NDArray[np.int16]) -> float:
        """Queue speech; returns the monotonic time its last frame was sent."""
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        await self._queue.put((pcm, done))
        return await done

    async def _send(self, samples: npt.NDArray[np.int16]) -> None:
        frame = rtc.AudioFrame(samples.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES)
        await self.source.capture_frame(frame)  # paces itself in real time

    async def _run(self) -> None:
        while True:
            try:
                pcm, done = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                await self._send(self._silence)
                continue
            padded = np.concatenate([pcm, np.zeros((-len(pcm)) % FRAME_SAMPLES, dtype=np.int16)])
            for start in range(0, len(padded), FRAME_SAMPLES):
                await self._send(padded[start : start + FRAME_SAMPLES])
            done.set_result(time.monotonic())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.source.aclose()


class Candidate:
    """Joins a room as the candidate and holds a spoken conversation with the agent."""

    def __init__(self, interview: Interview) -> None:
        self.interview = interview
        self.room = rtc.Room()
        self.mic = Microphone()
        self.timings = Timings()
        self._agent_frames: list[npt.NDArray[np.int16]] = []
        self._agent_state = asyncio.Event()
        self._states: list[str] = []
        self._agent_gone = asyncio.Event()
        self._record_tasks: list[asyncio.Task[None]] = []
        self._awaiting_reply = False

    # -- room -----------------------------------------------------------------------------------

    async def join(self, *, publish: bool = True) -> None:
        self.room.on("participant_connected", self._on_participant)
        self.room.on("participant_disconnected", self._on_left)
        self.room.on("track_subscribed", self._on_track)
        self.room.on("participant_attributes_changed", self._on_attributes)
        # When the agent deletes the room at the end, the candidate is disconnected rather than told that
        # the agent left: both mean the interview is over.
        self.room.on("disconnected", lambda *_: self._agent_gone.set())
        self.timings.joined = time.monotonic()
        await self.room.connect(self.interview.livekit_url, self.interview.token)
        for participant in self.room.remote_participants.values():
            self._on_participant(participant)
        if publish:
            await self.publish_microphone()

    async def publish_microphone(self) -> None:
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self.mic.source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, options)
        self.mic.start()

    def _is_agent(self, participant: rtc.Participant) -> bool:
        return participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT

    def _on_participant(self, participant: rtc.RemoteParticipant) -> None:
        if self._is_agent(participant) and self.timings.agent_joined is None:
            self.timings.agent_joined = time.monotonic()
            self._note_state(participant.attributes.get(AGENT_STATE))

    def _on_left(self, participant: rtc.RemoteParticipant) -> None:
        if self._is_agent(participant):
            self._agent_gone.set()

    def _on_attributes(self, changed: dict[str, str], participant: rtc.Participant) -> None:
        if self._is_agent(participant) and AGENT_STATE in changed:
            self._note_state(changed[AGENT_STATE])

    def _note_state(self, state: str | None) -> None:
        if state:
            self._states.append(state)
            self._agent_state.set()

    def _on_track(
        self, track: rtc.Track, _publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and self._is_agent(participant):
            self._record_tasks.append(asyncio.create_task(self._record(track)))

    async def _record(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream.from_track(track=track, sample_rate=SAMPLE_RATE, num_channels=1)
        try:
            await self._consume(stream)
        finally:
            await stream.aclose()

    async def _consume(self, stream: rtc.AudioStream) -> None:
        async for event in stream:
            samples = np.frombuffer(event.frame.data, dtype=np.int16).copy()
            self._agent_frames.append(samples)
            if float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) < SPEECH_RMS:
                continue
            now = time.monotonic()
            if self.timings.first_agent_audio is None:
                self.timings.first_agent_audio = now
            if self._awaiting_reply:
                self._awaiting_reply = False
                self.timings.agent_audio_after_answer.append(now)

    # -- conversation --------------------------------------------------------------------------------

    async def wait_agent_turn_done(self, timeout: float) -> bool:
        """Until the agent has spoken and is listening again. False if it left or time ran out."""
        deadline = time.monotonic() + timeout
        seen_speaking = False
        while time.monotonic() < deadline and not self._agent_gone.is_set():
            while self._states:
                state = self._states.pop(0)
                if state == "speaking":
                    seen_speaking = True
                elif state == "listening" and seen_speaking:
                    return True
            self._agent_state.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._agent_state.wait(), max(0.0, min(1.0, deadline - time.monotonic()))
                )
        return False

    async def say(self, text: str) -> None:
        pcm = espeak_pcm(text, sample_rate=SAMPLE_RATE)
        ended = await self.mic.say(pcm)
        self.timings.answer_ends.append(ended)
        self._awaiting_reply = True

    async def converse(self, answers: Sequence[str], *, turn_timeout: float = 60.0) -> list[str]:
        """Wait for each agent turn to finish, then answer; returns what was said."""
        spoken: list[str] = []
        for answer in answers:
            if not await self.wait_agent_turn_done(turn_timeout):
                break
            await self.say(answer)
            spoken.append(answer)
        return spoken

    async def wait_agent_left(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._agent_gone.wait(), timeout)
        return self._agent_gone.is_set()

    def agent_audio(self) -> npt.NDArray[np.int16]:
        if not self._agent_frames:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self._agent_frames)

    async def leave(self) -> None:
        await self.mic.aclose()
        for task in self._record_tasks:
            task.cancel()
        await asyncio.gather(*self._record_tasks, return_exceptions=True)
        await self.room.disconnect()


async def interview_by_voice(
    api_url: str,
    emulator_host: str,
    role: str,
    answers: Sequence[str],
    *,
    duration_minutes: int = 10,
    end_timeout: float = 90.0,
) -> CandidateRun:
    uid, id_token = sign_in_anonymously(emulator_host)
    interview = start_interview(api_url, id_token, role, duration_minutes=duration_minutes, uid=uid)
    candidate = Candidate(interview)
    await candidate.join()
    try:
        spoken = await candidate.converse(answers)
        left = await candidate.wait_agent_left(end_timeout)
    finally:
        await candidate.leave()
    return CandidateRun(
        interview=interview,
        timings=candidate.timings,
        answers_spoken=spoken,
        agent_audio=candidate.agent_audio(),
        agent_left=left,
    )


def main(args: argparse.Namespace) -> int:
    answers = [line.strip() for line in Path(args.answers).read_text().splitlines() if line.strip()]
    run = asyncio.run(interview_by_voice(args.api, args.emulator, args.role, answers))
    summary: dict[str, Any] = {
        "interview_id": run.interview.interview_id,
        "answers_spoken": len(run.answers_spoken),
        "dispatch_seconds": run.timings.dispatch_seconds,
        "greeting_seconds": run.timings.greeting_seconds,
        "response_seconds": run.timings.response_seconds,
        "agent_left": run.agent_left,
    }
    print(summary)
    if args.record:
        Path(args.record).write_bytes(run.agent_wav())
    return 0
