"""STUB agent for the web client's e2e harness (stub mode only). NOT the real interviewer.

It joins a LiveKit room as an agent participant and speaks the client-facing protocol the real
livekit-agents worker speaks, so the browser client can be exercised without the agent stack:
  - participant attributes: lk.agent.state, interview.phase, interview.ends_at, interview.question,
    interview.question_ends_at
  - audio: an espeak-ng greeting published with source Microphone
  - transcriptions on text-stream topic "lk.transcription": the agent's own speech as one delta stream
    per segment (final=true in the trailer), the candidate's as one stream per update (full text).
It has no speech recognition: when it hears candidate audio (RMS above a threshold) it publishes a canned
candidate transcript that says so, "(stub STT) …". Anything it "understands" is fake.

Usage: python stub_agent.py --url ws://127.0.0.1:7880 --room R --key K --secret S --candidate UID
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import subprocess
import tempfile
import wave
from array import array
from pathlib import Path

from livekit import api, rtc

SR = 48_000
FRAME = SR // 100  # 10 ms


def tts(text: str) -> array:
    """espeak-ng → 48 kHz mono int16 samples (sox resamples)."""
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "raw.wav"
        out = Path(d) / "out.wav"
        subprocess.run(["espeak-ng", "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", str(SR), "-c", "1", "-b", "16", str(out)], check=True)
        with wave.open(str(out), "rb") as w:
            samples = array("h")
            samples.frombytes(w.readframes(w.getnframes()))
    return samples


def iso_in(seconds: float) -> str:
    t = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return t.isoformat().replace("+00:00", "Z")


class StubAgent:
    def __init__(self, room: rtc.Room, candidate: str) -> None:
        self.room = room
        self.candidate = candidate
        self.source = rtc.AudioSource(SR, 1)
        self.track_sid = ""
        self.heard = asyncio.Event()
        self.candidate_track_sid = ""
        self.seg = 0

    async def attrs(self, **kv: str) -> None:
        await self.room.local_participant.set_attributes({k.replace("__", "."): v for k, v in kv.items()})

    async def say(self, text: str) -> None:
        """Play speech and stream its transcript word by word (delta stream, final in the trailer)."""
        self.seg += 1
        samples = tts(text)
        words = text.split()
        await self.attrs(lk__agent__state="speaking")
        writer = await self.room.local_participant.stream_text(
            topic="lk.transcription",
            attributes={
                "lk.transcription_final": "false",
                "lk.segment_id": f"SG_stub_agent_{self.seg}",
                "lk.transcribed_track_id": self.track_sid,
            },
        )
        frames = math.ceil(len(samples) / FRAME)
        per_word = max(1, frames // max(1, len(words)))
        w = 0
        for i in range(frames):
            chunk = samples[i * FRAME : (i + 1) * FRAME]
            if len(chunk) < FRAME:
                chunk.extend([0] * (FRAME - len(chunk)))
            await self.source.capture_frame(rtc.AudioFrame(chunk.tobytes(), SR, 1, FRAME))
            if i % per_word == 0 and w < len(words):
                await writer.write(("" if w == 0 else " ") + words[w])
                w += 1
        if w < len(words):
            await writer.write(" " + " ".join(words[w:]))
        await self.source.wait_for_playout()
        await writer.aclose(
            attributes={"lk.transcription_final": "true", "lk.transcribed_track_id": self.track_sid}
        )
        await self.attrs(lk__agent__state="listening")

    async def candidate_said(self, text: str) -> None:
        """Publish a candidate transcript the way livekit-agents does (one stream per update)."""
        for final, part in ((False, text.split(")")[0] + ")"), (True, text)):
            writer = await self.room.local_participant.stream_text(
                topic="lk.transcription",
                sender_identity=self.candidate,
                attributes={
                    "lk.transcription_final": "true" if final else "false",
                    "lk.segment_id": "SG_stub_candidate_1",
                    "lk.transcribed_track_id": self.candidate_track_sid,
                },
            )
            await writer.write(part)
            await writer.aclose()

    async def listen(self, track: rtc.Track) -> None:
        loud_ms = 0
        async for ev in rtc.AudioStream.from_track(track=track, sample_rate=SR, num_channels=1):
            data = array("h", bytes(ev.frame.data))
            rms = math.sqrt(sum(x * x for x in data) / max(1, len(data))) / 32768
            if rms > 0.01:
                loud_ms += 10
            if loud_ms >= 300 and not self.heard.is_set():
                self.heard.set()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--room", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--candidate", required=True)
    ap.add_argument("--duration-minutes", type=int, default=20)
    a = ap.parse_args()

    token = (
        api.AccessToken(a.key, a.secret)
        .with_identity(f"agent-stub-{a.room}")
        .with_kind("agent")
        .with_grants(api.VideoGrants(room_join=True, room=a.room, agent=True, can_update_own_metadata=True))
        .to_jwt()
    )
    room = rtc.Room()
    agent = StubAgent(room, a.candidate)
    done = asyncio.Event()
    listeners: list[asyncio.Task[None]] = []

    @room.on("track_subscribed")
    def _on_track(track: rtc.Track, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and p.identity == a.candidate:
            agent.candidate_track_sid = pub.sid
            listeners.append(asyncio.ensure_future(agent.listen(track)))

    @room.on("participant_disconnected")
    def _on_left(p: rtc.RemoteParticipant) -> None:
        if p.identity == a.candidate:
            done.set()

    @room.on("disconnected")
    def _on_disc(*_: object) -> None:
        done.set()

    await room.connect(a.url, token)
    await agent.attrs(lk__agent__state="initializing")
    track = rtc.LocalAudioTrack.create_audio_track("agent-voice", agent.source)
    pub = await room.local_participant.publish_track(
        track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    )
    agent.track_sid = pub.sid
    await agent.attrs(interview__phase="greeting", interview__ends_at=iso_in(a.duration_minutes * 60))
    await agent.say("Hello, and welcome. I am a stub interviewer, used only for testing the web client.")
    await agent.attrs(
        interview__phase="warmup",
        interview__question="Tell me about a project you are proud of.",
        interview__question_ends_at=iso_in(120),
    )
    await agent.say("Tell me about a project you are proud of.")

    async def on_heard() -> None:
        await agent.heard.wait()
        await agent.attrs(lk__agent__state="thinking")
        await agent.candidate_said("(stub STT) candidate audio received, no speech recognition in the stub")
        await agent.attrs(interview__phase="core")
        await agent.say("Thank you. That is all the stub can do.")

    heard_task = asyncio.ensure_future(on_heard())
    await done.wait()
    heard_task.cancel()
    for t in listeners:
        t.cancel()
    await room.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
