"""A simulated candidate: signs in, asks the api for an interview, joins the room and answers by voice.

Used by the end-to-end tests and the benchmarks. It behaves like a browser would: one microphone track
(source MICROPHONE) that always sends audio (silence between answers, as a real microphone does), it
records everything the agent says, and it answers with espeak-ng speech, a different voice from the agent's.

It is also the latency instrument. Every stamp is wall-clock `time.time()`, the clock the agent's own stage
stamps use (agent/turn_timings.py), so on one machine the two sets can be subtracted. An answer ends when its
last speech sample leaves the microphone for WebRTC (not when it is queued, and not after trailing silence);
a reply is heard at the first audible 10 ms frame of the agent's track that arrives after that.

What the instrument cannot see, and so leaves out of every figure it reports:
- A real browser's capture buffer before the microphone and its playout buffer after the received frame
  (tens of milliseconds each, device-dependent). The WebRTC path between them (Opus packetisation, the
  server, the receiver's jitter buffer) is inside the measurement, as it is for a real candidate.
- Frame granularity: audio leaves and arrives in 10 ms frames, so each stamp is good to about ±10 ms.
- The agent's quiet onset: the reply counts from the first frame above `SPEECH_RMS`, so a soft first
  phoneme is heard a few milliseconds "late", as a person at a low volume would hear it.
tests/integration/test_latency_instrument.py reads an injected delay back through a real server to pin this.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from livekit import rtc
from pydantic import ValidationError

from interviewer.agent.turn_timings import TURN_TIMINGS_TOPIC, TurnTimings
from interviewer.bench.speech_sim import SPEECH_RMS, JoinedSpeech, espeak_pcm, join_speech, wav_bytes
from interviewer.disconnects import connection_lost

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
FRAME_SAMPLES = SAMPLE_RATE // 100  # 10 ms
# The microphone's queue inside livekit's AudioSource. `capture_frame` returns once a frame is queued, and a
# full queue holds this much audio, so a frame leaves about this long after `capture_frame` returned. The
# stamps do not assume it: they add livekit's own estimate of what is still queued (checked against a sink on
# the local track). The default, 1000 ms, with a stamp at the return, is what made every reply read a second
# slow. A small queue acts like a real microphone; one too small for the event loop's stalls on a busy machine
# runs dry and leaves a gap in the audio (counted in `Timings.underruns`).
MIC_QUEUE_MS = 100
AGENT_STATE = "lk.agent.state"
ONSET_GAP_S = 0.3  # agent audio after this much quiet is a new onset (Piper's own pauses are shorter)


class CandidateError(RuntimeError):
    pass


class InterviewersBusy(CandidateError):
    """The api answered 503: every interviewer is busy; try again after `retry_after` seconds."""

    def __init__(self, retry_after: float, detail: str) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass
class AnswerTimings:
    """One spoken answer, wall-clock seconds of its samples leaving the microphone."""

    text: str
    started: float  # first speech sample
    ended: float  # last speech sample
    pauses: list[tuple[float, float]] = field(default_factory=list)  # mid-answer silences (from, to)


@dataclass(frozen=True)
class Reply:
    """The agent's first audible frame after an answer ended."""

    heard: float
    seconds: float  # heard - the answer's end
    overlapped: bool  # the agent was already audible when the answer ended: not a clean reply


@dataclass
class Timings:
    """Wall-clock timestamps (`time.time()`) of what the candidate saw; None if it never happened."""

    joined: float | None = None
    agent_joined: float | None = None
    answers: list[AnswerTimings] = field(default_factory=list)
    agent_audible: list[float] = field(default_factory=list)  # arrival of every audible agent frame
    # The same arrivals by the agent that sent them: a participant left behind by a dead job is listed in
    # the room for a while, but only a live one is heard.
    audible_by: dict[str, list[float]] = field(default_factory=dict)
    turns: list[TurnTimings] = field(default_factory=list)  # the agent's own stage stamps, as received
    underruns: int = 0  # times the microphone's queue ran dry while it should have been sending

    @property
    def first_agent_audio(self) -> float | None:
        return self.agent_audible[0] if self.agent_audible else None

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
    def answer_ends(self) -> list[float]:
        return [answer.ended for answer in self.answers]

    def reply_to(self, answer: AnswerTimings) -> Reply | None:
        index = bisect.bisect_left(self.agent_audible, answer.ended)
        if index == len(self.agent_audible):
            return None
        heard = self.agent_audible[index]
        overlapped = index > 0 and answer.ended - self.agent_audible[index - 1] < ONSET_GAP_S
        return Reply(heard=heard, seconds=heard - answer.ended, overlapped=overlapped)

    @property
    def response_seconds(self) -> list[float]:
        """End of each answer to the first audible agent frame after it (answers with a reply)."""
        return [reply.seconds for answer in self.answers if (reply := self.reply_to(answer)) is not None]

    def agent_onsets(self) -> list[float]:
        """Each time the agent's voice starts after at least `ONSET_GAP_S` of quiet."""
        onsets: list[float] = []
        previous: float | None = None
        for heard in self.agent_audible:
            if previous is None or heard - previous >= ONSET_GAP_S:
                onsets.append(heard)
            previous = heard
        return onsets


def voices_at_once(audible_by: dict[str, list[float]], within: float = ONSET_GAP_S) -> int:
    """The most agents heard within `within` seconds of one another: two is a second live agent talking
    over the first (a listed but silent participant, such as a dead job's, does not count)."""
    agents = [sorted(times) for times in audible_by.values() if times]

    def heard_near(times: list[float], at: float) -> bool:
        index = bisect.bisect_left(times, at - within)
        return index < len(times) and times[index] <= at + within

    most = min(1, len(agents))
    for i, times in enumerate(agents):
        others = agents[:i] + agents[i + 1 :]
        for at in times:
            most = max(most, 1 + sum(1 for other in others if heard_near(other, at)))
    return most


def audible_spans(times: list[float], gap: float = ONSET_GAP_S) -> list[tuple[float, float]]:
    """Audible instants as spans, a new one after `gap` seconds of quiet: what the JSON lines keep, so a
    "heard at once" can be checked against the server's own log."""
    spans: list[tuple[float, float]] = []
    for at in sorted(times):
        if spans and at - spans[-1][1] <= gap:
            spans[-1] = (spans[-1][0], at)
        else:
            spans.append((at, at))
    return spans


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
    if response.status_code == 503:  # busy: the api says when to come back in the standard header
        raise InterviewersBusy(float(response.headers.get("Retry-After", 20)), response.text)
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


def _post_as_candidate(api_url: str, interview: Interview, action: str) -> httpx.Response:
    """POST /v1/interviews/{id}/{action} with the candidate's ID token; a CandidateError unless 200."""
    response = httpx.post(
        f"{api_url}/v1/interviews/{interview.interview_id}/{action}",
        headers={"Authorization": f"Bearer {interview.id_token}"},
        timeout=10,
    )
    if response.status_code != 200:
        raise CandidateError(f"POST /v1/interviews/{{id}}/{action}: {response.status_code} {response.text}")
    return response


def rejoin_interview(api_url: str, interview: Interview) -> Interview:
    """A fresh token for the same room, as the web app's rejoin asks for one (no second agent dispatch)."""
    response = _post_as_candidate(api_url, interview, "token")
    return replace(interview, token=response.json()["participant_token"])


def end_interview(api_url: str, interview: Interview) -> None:
    """The web app's End button: the interview is over for the candidate, and its room is deleted."""
    _post_as_candidate(api_url, interview, "end")


class Microphone:
    """Always sends 10 ms frames: queued speech when there is some, silence otherwise."""

    def __init__(self, queue_ms: int = MIC_QUEUE_MS) -> None:
        self.source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=queue_ms)
        self.underruns = 0
        self._queue_s = queue_ms / 1000
        self._filled = False
        self._queue: asyncio.Queue[_Utterance] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def say(self, pcm: npt.NDArray[np.int16], marks: Sequence[int] = ()) -> list[float]:
        """Send `pcm` after what is queued; the wall-clock time each sample index in `marks` left."""
        if any(not 0 <= mark < len(pcm) for mark in marks):
            raise ValueError("a mark lies outside the speech")
        utterance = _Utterance(pcm, tuple(marks), asyncio.get_running_loop().create_future())
        await self._queue.put(utterance)
        return await utterance.done

    async def _send(self, samples: npt.NDArray[np.int16]) -> float:
        """Queue one frame; returns when its last sample will leave for WebRTC."""
        frame = rtc.AudioFrame(samples.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES)
        await self.source.capture_frame(frame)  # paces itself in real time, `queue_ms` ahead
        # `queued_duration` is livekit's own estimate of what is still queued, this frame included: it tracks
        # the native queue in steady state and drops to zero after the queue ran dry, where a fixed
        # `queue_ms` would date the frame too late.
        queued = self.source.queued_duration
        if queued >= self._queue_s:
            self._filled = True
        elif self._filled and queued < 0.5 * FRAME_SAMPLES / SAMPLE_RATE:
            self.underruns += 1  # the queue ran dry before this frame: the audio has a gap
            self._filled = False
        return time.time() + queued

    async def _run(self) -> None:
        while True:
            try:
                utterance = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                await self._send(self._silence)
                continue
            pcm = utterance.pcm
            padded = np.concatenate([pcm, np.zeros((-len(pcm)) % FRAME_SAMPLES, dtype=np.int16)])
            left: dict[int, float] = {}
            for start in range(0, len(padded), FRAME_SAMPLES):
                handed = await self._send(padded[start : start + FRAME_SAMPLES])
                # A frame handed over at T carries [T - 10 ms, T], as a sound card's capture callback would.
                for mark in utterance.marks:
                    if start <= mark < start + FRAME_SAMPLES:
                        left[mark] = handed - (start + FRAME_SAMPLES - 1 - mark) / SAMPLE_RATE
            if not utterance.done.done():
                utterance.done.set_result([left[mark] for mark in utterance.marks])

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.source.aclose()


@dataclass(frozen=True)
class _Utterance:
    pcm: npt.NDArray[np.int16]
    marks: tuple[int, ...]
    done: asyncio.Future[list[float]]


class Candidate:
    """Joins a room as the candidate and holds a spoken conversation with the agent."""

    def __init__(self, interview: Interview, *, mic_queue_ms: int = MIC_QUEUE_MS) -> None:
        self.interview = interview
        self.room = rtc.Room()
        self.mic = Microphone(mic_queue_ms)
        self.timings = Timings()
        self._agent_frames: list[npt.NDArray[np.int16]] = []
        self._agent_state = asyncio.Event()
        self._states: list[str] = []
        self._state_now: str | None = None
        self._agent_gone = asyncio.Event()
        self._agent_back = asyncio.Event()  # an agent joined after the last one left
        self._record_tasks: list[asyncio.Task[None]] = []
        self.disconnected = False  # for good: the room was closed, or the client gave up reconnecting
        self.lost_connection = False  # disconnected, and not on purpose (disconnects.py): rejoin
        self._left_room = asyncio.Event()  # `disconnected`, as something to wait on

    # -- room -----------------------------------------------------------------------------------

    async def join(self, *, publish: bool = True) -> None:
        self.room.on("participant_connected", self._on_participant)
        self.room.on("participant_disconnected", self._on_left)
        self.room.on("track_subscribed", self._on_track)
        self.room.on("participant_attributes_changed", self._on_attributes)
        self.room.on("data_received", self._on_data)
        # When the agent deletes the room at the end, the candidate is disconnected rather than told that
        # the agent left: both mean the interview is over.
        self.room.on("disconnected", self._on_disconnected)
        self.timings.joined = time.time()
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

    def _is_agent(self, participant: rtc.Participant | None) -> bool:
        return participant is not None and participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT

    def _on_participant(self, participant: rtc.RemoteParticipant) -> None:
        if not self._is_agent(participant):
            return
        self._agent_back.set()
        if self.timings.agent_joined is None:
            self.timings.agent_joined = time.time()
            self._note_state(participant.attributes.get(AGENT_STATE))
        elif self._agent_gone.is_set() and self.in_room:
            # Another agent took the interview over: the one that left is replaced, not the interview over.
            self._agent_gone.clear()
            self._note_state(participant.attributes.get(AGENT_STATE))

    def _on_disconnected(self, reason: rtc.DisconnectReason.ValueType) -> None:
        self.disconnected = True
        self.lost_connection = connection_lost(reason)
        self._agent_gone.set()
        self._left_room.set()

    def _on_left(self, participant: rtc.RemoteParticipant) -> None:
        if not self._is_agent(participant):
            return
        if any(
            self._is_agent(other) and other.identity != participant.identity
            for other in self.room.remote_participants.values()
        ):
            # A dead job's participant is listed until livekit times it out, often after its take-over
            # agent joined: the interview still has its agent (waiting for another one would wait forever).
            return
        self._agent_back.clear()
        self._agent_gone.set()

    def _on_attributes(self, changed: dict[str, str], participant: rtc.Participant) -> None:
        if self._is_agent(participant) and AGENT_STATE in changed:
            self._note_state(changed[AGENT_STATE])

    def _on_data(self, packet: rtc.DataPacket) -> None:
        if packet.topic != TURN_TIMINGS_TOPIC or not self._is_agent(packet.participant):
            return
        try:
            self.timings.turns.append(TurnTimings.from_payload(packet.data))
        except ValidationError as error:  # an agent of another version: the figures do without its stages
            log.warning("unreadable turn timings from the agent: %s", error)

    def _note_state(self, state: str | None) -> None:
        if state:
            self._state_now = state
            self._states.append(state)
            self._agent_state.set()

    def _on_track(
        self, track: rtc.Track, _publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and self._is_agent(participant):
            self._record_tasks.append(asyncio.create_task(self._record(track, participant.identity)))

    async def _record(self, track: rtc.Track, agent: str) -> None:
        stream = rtc.AudioStream.from_track(track=track, sample_rate=SAMPLE_RATE, num_channels=1)
        try:
            await self._consume(stream, self.timings.audible_by.setdefault(agent, []))
        finally:
            await stream.aclose()

    async def _consume(self, stream: rtc.AudioStream, audible: list[float]) -> None:
        async for event in stream:
            # Stamped as the frame arrives from the jitter buffer, before any work on it.
            arrived = time.time()
            samples = np.frombuffer(event.frame.data, dtype=np.int16).copy()
            self._agent_frames.append(samples)
            if float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) >= SPEECH_RMS:
                self.timings.agent_audible.append(arrived)
                audible.append(arrived)

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

    async def say(self, text: str) -> AnswerTimings:
        return await self.say_parts([text], [])

    async def say_parts(self, parts: Sequence[str], pauses: Sequence[float]) -> AnswerTimings:
        """One answer spoken part by part, with `pauses[i]` seconds of silence after part i."""
        # Synthesised off the event loop: a blocked loop starves the microphone's small queue (an underrun).
        speech = await asyncio.to_thread(_spoken, parts, pauses)
        marks = [sample for span in speech.spans for sample in span]
        left = await self.mic.say(speech.pcm, marks)
        self.timings.underruns = self.mic.underruns
        answer = AnswerTimings(
            text=" ".join(parts),
            started=left[0],
            ended=left[-1],
            pauses=[(left[i], left[i + 1]) for i in range(1, len(left) - 1, 2)],
        )
        self.timings.answers.append(answer)
        # Agent states from before the end (a reply that cut into a pause) must not count as the reply
        # to this answer; one that is still under way does.
        self._states = [self._state_now] if self._state_now in ("thinking", "speaking") else []
        return answer

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

    async def wait_agent_back(self, timeout: float) -> bool:
        """After the agent left a room that is still open: until another agent joins (a take-over), or
        this client is disconnected after all (then a rejoin, not a take-over, is what comes next)."""
        waits = [
            asyncio.ensure_future(self._agent_back.wait()),
            asyncio.ensure_future(self._left_room.wait()),
        ]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        return self._agent_back.is_set() and not self.disconnected

    @property
    def in_room(self) -> bool:
        """Connected now. (`Room.isconnected()` is true while the client is still trying to reconnect too.)"""
        return self.room.connection_state == rtc.ConnectionState.CONN_CONNECTED

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


def _spoken(parts: Sequence[str], pauses: Sequence[float]) -> JoinedSpeech:
    return join_speech([espeak_pcm(part, sample_rate=SAMPLE_RATE) for part in parts], pauses, SAMPLE_RATE)


async def interview_by_voice(
    api_url: str,
    emulator_host: str,
    role: str,
    answers: Sequence[str],
    *,
    duration_minutes: int = 10,
    end_timeout: float = 90.0,
    mic_queue_ms: int = MIC_QUEUE_MS,
) -> CandidateRun:
    uid, id_token = sign_in_anonymously(emulator_host)
    interview = start_interview(api_url, id_token, role, duration_minutes=duration_minutes, uid=uid)
    candidate = Candidate(interview, mic_queue_ms=mic_queue_ms)
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
