"""The latency instrument (candidate.py) reads a known delay back.

1. The microphone dates a sample when it leaves for WebRTC: a sink on the candidate's own local track sees
   each marked frame when livekit's AudioSource hands it over, and the stamps must agree with that.
2. Through a real livekit-server: an echo peer (plain livekit rtc, joined as an agent so the candidate takes
   it for the interviewer) hears the candidate's answer end and answers with a tone exactly `DELAY_S` later.
   The candidate's reply latency must read `DELAY_S` plus the two one-way trips through the server, and each
   trip is measured here too (same machine, same wall clock) so the tolerance is a measured bound, not a
   guess. The old instrument (1000 ms queue, stamped when the last frame was queued) read about 1 s more.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import secrets
import statistics
import time

import numpy as np
import numpy.typing as npt
import pytest
from livekit import api, rtc

from interviewer.bench.candidate import (
    FRAME_SAMPLES,
    MIC_QUEUE_MS,
    SAMPLE_RATE,
    Candidate,
    Interview,
    Microphone,
)
from interviewer.bench.speech_sim import SPEECH_RMS
from tests.fixtures.livekit import LiveKitServer
from tests.fixtures.waiting import wait_until

pytestmark = pytest.mark.integration

DELAY_S = 0.6
ROUNDS = 4
ANSWER = "The quick brown fox jumps over the lazy dog."
# One way through livekit-server on loopback: Opus packetisation (20 ms), the server, the receiver's jitter
# buffer and its 10 ms playout tick. The test prints each trip it measured; typically a few tens of ms. On a
# loaded machine the jitter buffer grows for a while, so one trip may take a few times that: each trip gets
# `ONE_WAY_MAX_S` and their median `ONE_WAY_TYPICAL_S`. Both stay far below the errors this test exists to
# catch: a stamp taken when the frame was queued (a queue early: 1 s by default) or after the answer's
# trailing silence (late: a trip below zero).
ONE_WAY_MAX_S = 0.3
ONE_WAY_TYPICAL_S = 0.1
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
SILENCE_BEFORE_REPLY_S = 0.25  # the echo decides the answer is over after this much quiet (< DELAY_S)
TONE_S = 0.3


def _rms(samples: npt.NDArray[np.int16]) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def _tone(seconds: float, hz: float = 440.0, amplitude: int = 8000) -> npt.NDArray[np.int16]:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.int16)


# -- 1. the microphone alone ------------------------------------------------------------------------------


async def test_microphone_dates_samples_when_they_leave_for_webrtc() -> None:
    mic = Microphone()
    track = rtc.LocalAudioTrack.create_audio_track("microphone", mic.source)
    sink = rtc.AudioStream.from_track(track=track, sample_rate=SAMPLE_RATE, num_channels=1)
    handed: list[tuple[float, int]] = []  # (arrival, peak) of every frame the source handed over

    async def watch() -> None:
        async for event in sink:
            handed.append((time.time(), int(np.abs(np.frombuffer(event.frame.data, np.int16)).max())))

    watcher = asyncio.create_task(watch())
    mic.start()
    try:
        errors = []
        for _ in range(8):
            # A click in its own frame after silence: the sink sees exactly when that frame leaves.
            pcm = np.zeros(30 * FRAME_SAMPLES, dtype=np.int16)
            pcm[20 * FRAME_SAMPLES : 21 * FRAME_SAMPLES] = 10_000
            mark = 21 * FRAME_SAMPLES - 1  # the click's last sample: its frame's hand-over time
            seen_before = len(handed)
            (left,) = await mic.say(pcm, [mark])
            await wait_until(
                lambda n=seen_before: any(p > 0 for _, p in handed[n:]), 2, "the click", every=0.02
            )
            arrival = next(t for t, p in handed[seen_before:] if p > 0)
            errors.append(arrival - left)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await sink.aclose()
        await mic.aclose()
    # The sink's event reaches Python after the hand-over, never before it by more than the 10 ms tick the
    # source drains on; a busy loop can only make it later, so the median is the figure to hold.
    assert min(errors) > -FRAME_S - 0.003, errors
    assert abs(statistics.median(errors)) <= 0.010, errors


# -- 2. a known delay, read back through livekit-server ---------------------------------------------------


class EchoPeer:
    """A test peer: hears the candidate's answer end, answers with a tone `delay` later, records both stamps.

    It always sends (silence, then the tone), through a small AudioSource queue like the candidate's, so the
    tone's first frame leaves when it is due rather than after a queue's worth of older audio.
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.room = rtc.Room()
        self.source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=MIC_QUEUE_MS)
        self.heard_ends: list[float] = []  # arrival of the last loud frame of each answer
        self.tones_left: list[float] = []  # when each tone's first sample left for WebRTC
        self._last_loud: float | None = None
        self._due: float | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def join(self, url: str, token: str) -> None:
        self.room.on("track_subscribed", self._on_track)
        await self.room.connect(url, token)
        track = rtc.LocalAudioTrack.create_audio_track("echo", self.source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, options)
        self._tasks.append(asyncio.create_task(self._send()))

    def _on_track(self, track: rtc.Track, *_: object) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            self._tasks.append(asyncio.create_task(self._listen(track)))

    async def _listen(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream.from_track(track=track, sample_rate=SAMPLE_RATE, num_channels=1)
        try:
            async for event in stream:
                now = time.time()
                if _rms(np.frombuffer(event.frame.data, np.int16)) >= SPEECH_RMS:
                    self._last_loud = now
                elif self._last_loud is not None and now - self._last_loud >= SILENCE_BEFORE_REPLY_S:
                    self.heard_ends.append(self._last_loud)
                    self._due = self._last_loud + self.delay
                    self._last_loud = None
        finally:
            await stream.aclose()

    async def _send(self) -> None:
        silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        tone = _tone(TONE_S)
        left_at = time.time()  # when the last frame sent will leave
        while True:
            frame = silence
            # The next frame leaves one frame after the last: the tone starts with the frame carrying `due`.
            if self._due is not None and left_at + FRAME_S >= self._due:
                self._due = None
                first = True
                for start in range(0, len(tone), FRAME_SAMPLES):
                    left_at = await self._capture(tone[start : start + FRAME_SAMPLES])
                    if first:
                        self.tones_left.append(left_at - FRAME_S)  # the frame carries [T - 10 ms, T]
                        first = False
                continue
            left_at = await self._capture(frame)

    async def _capture(self, samples: npt.NDArray[np.int16]) -> float:
        await self.source.capture_frame(rtc.AudioFrame(samples.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES))
        return time.time() + self.source.queued_duration

    async def leave(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.room.disconnect()
        await self.source.aclose()


def _token(server: LiveKitServer, identity: str, room: str, *, agent: bool = False) -> str:
    token = (
        api.AccessToken(server.api_key, server.api_secret)
        .with_identity(identity)
        .with_ttl(datetime.timedelta(minutes=5))
        .with_grants(api.VideoGrants(room_join=True, room=room))
    )
    if agent:
        token = token.with_kind("agent")
    return token.to_jwt()


async def test_loopback_reads_an_injected_delay_back(livekit_server: LiveKitServer) -> None:
    room = f"latency-{secrets.token_hex(6)}"
    echo = EchoPeer(DELAY_S)
    interview = Interview(
        interview_id="instrument-test",
        room=room,
        livekit_url=livekit_server.url,
        token=_token(livekit_server, "candidate", room),
        uid="candidate",
        id_token="",
    )
    candidate = Candidate(interview)
    await echo.join(livekit_server.url, _token(livekit_server, "echo", room, agent=True))
    await candidate.join()
    try:
        await wait_until(lambda: candidate.timings.agent_joined is not None, 10, "the echo peer", every=0.02)
        for round_ in range(ROUNDS):
            answer = await candidate.say(ANSWER)
            await wait_until(lambda r=round_: len(echo.tones_left) > r, 10, "the echo's tone", every=0.02)
            await wait_until(
                lambda a=answer: candidate.timings.reply_to(a) is not None, 5, "the tone heard", every=0.02
            )
    finally:
        await candidate.leave()
        await echo.leave()

    timings = candidate.timings
    trips: list[float] = []
    for answer, heard_end, tone_left in zip(timings.answers, echo.heard_ends, echo.tones_left, strict=True):
        reply = timings.reply_to(answer)
        assert reply is not None and not reply.overlapped
        inbound = heard_end - answer.ended  # candidate's microphone -> echo's ear
        outbound = reply.heard - tone_left  # echo's microphone -> candidate's ear
        print(  # the measured trips, for whoever revisits the bounds
            f"read {reply.seconds:.3f} s for {DELAY_S} s: in {inbound * 1000:.0f} ms, "
            f"out {outbound * 1000:.0f} ms, echo late by {(tone_left - heard_end - DELAY_S) * 1000:.0f} ms"
        )
        # The echo answered when told (within the frame it could start on).
        assert abs(tone_left - heard_end - DELAY_S) <= FRAME_S + 0.005
        # Each trip takes time, and not much of it.
        assert -FRAME_S <= inbound <= ONE_WAY_MAX_S, inbound
        assert -FRAME_S <= outbound <= ONE_WAY_MAX_S, outbound
        trips += [inbound, outbound]
        # So the instrument reads the injected delay back, plus the two trips.
        assert DELAY_S - 2 * FRAME_S <= reply.seconds <= DELAY_S + 2 * ONE_WAY_MAX_S, reply.seconds
    assert statistics.median(trips) <= ONE_WAY_TYPICAL_S, trips
