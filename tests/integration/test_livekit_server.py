"""The pinned livekit-server, run by the session fixture, carries microphone audio between two clients."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
from pathlib import Path

import httpx
import numpy as np
import pytest
from livekit import api, rtc

from interviewer.config import load_settings
from interviewer.livekit_server import LIVEKIT_VERSION, find_livekit_server, server_version
from tests.fixtures.livekit import LiveKitServer

pytestmark = pytest.mark.integration

SAMPLE_RATE = 48_000
FRAME = SAMPLE_RATE // 100  # 10 ms, the only frame size `capture_frame` paces without complaint


def _token(server: LiveKitServer, identity: str, room: str, secret: str | None = None) -> str:
    return (
        api.AccessToken(server.api_key, secret or server.api_secret)
        .with_identity(identity)
        .with_ttl(datetime.timedelta(minutes=5))
        .with_grants(api.VideoGrants(room_join=True, room=room))
        .to_jwt()
    )


def test_pinned_binary_version() -> None:
    binary = find_livekit_server(load_settings(INTERVIEWER_MODE="test"))
    assert server_version(binary.resolve()) == LIVEKIT_VERSION


def test_server_answers_on_loopback(livekit_server: LiveKitServer) -> None:
    assert livekit_server.url.startswith("ws://127.0.0.1:")
    response = httpx.get(livekit_server.http_url + "/", timeout=5)
    assert response.status_code == 200
    assert response.text.strip() == "OK"
    assert livekit_server.process.poll() is None


def _socket_addresses(pid: int) -> list[tuple[str, str]]:
    """(protocol, hex local address) of every TCP/UDP socket the process holds, from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes and fields[3] in ("0A", "07"):  # listening TCP, bound UDP
                found.append((proto, fields[1].split(":")[0]))
    return found


def test_server_sockets_are_loopback_only(livekit_server: LiveKitServer) -> None:
    # 127.0.0.1 and ::1 as /proc/net prints them (little-endian words).
    loopback = {"0100007F", "00000000000000000000000001000000"}
    addresses = _socket_addresses(livekit_server.process.pid)
    assert {proto for proto, _ in addresses} >= {"tcp", "udp"}  # signalling and media both found
    assert all(address in loopback for _, address in addresses), addresses


async def test_token_signed_with_another_secret_is_refused(livekit_server: LiveKitServer) -> None:
    room = rtc.Room()
    bad = _token(livekit_server, "mallory", "refused-room", secret="x" * 40)
    with pytest.raises(rtc.ConnectError):
        await asyncio.wait_for(room.connect(livekit_server.url, bad), timeout=15)
    await room.disconnect()


async def test_microphone_audio_reaches_the_other_participant(livekit_server: LiveKitServer) -> None:
    room_name = "audio-exchange"
    speaker, listener = rtc.Room(), rtc.Room()
    subscribed: asyncio.Future[rtc.Track] = asyncio.get_running_loop().create_future()

    @listener.on("track_subscribed")
    def _on_track(track: rtc.Track, pub: rtc.RemoteTrackPublication, who: rtc.RemoteParticipant) -> None:
        mic = pub.source == rtc.TrackSource.SOURCE_MICROPHONE
        if mic and who.identity == "speaker" and not subscribed.done():
            subscribed.set_result(track)

    source = rtc.AudioSource(SAMPLE_RATE, 1)
    feeder: asyncio.Task[None] | None = None
    try:
        url = livekit_server.url
        await asyncio.wait_for(listener.connect(url, _token(livekit_server, "listener", room_name)), 15)
        await asyncio.wait_for(speaker.connect(url, _token(livekit_server, "speaker", room_name)), 15)
        track = rtc.LocalAudioTrack.create_audio_track("mic", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await asyncio.wait_for(speaker.local_participant.publish_track(track, options), 15)

        async def feed() -> None:
            # A 440 Hz tone at about -12 dBFS; capture_frame paces the loop in real time.
            t = np.arange(FRAME)
            n = 0
            while True:
                tone = (np.sin(2 * np.pi * 440 * (t + n * FRAME) / SAMPLE_RATE) * 8000).astype(np.int16)
                await source.capture_frame(rtc.AudioFrame(tone.tobytes(), SAMPLE_RATE, 1, FRAME))
                n += 1

        feeder = asyncio.create_task(feed())
        remote = await asyncio.wait_for(subscribed, 15)
        stream = rtc.AudioStream.from_track(track=remote, sample_rate=SAMPLE_RATE, num_channels=1)

        async def loud_frames(wanted: int) -> int:
            loud = 0
            async for event in stream:
                samples = np.frombuffer(event.frame.data, dtype=np.int16).astype(np.float64)
                if np.sqrt(np.mean(samples**2)) > 1000:  # the tone's RMS is ~5600; opus keeps it near that
                    loud += 1
                    if loud >= wanted:
                        break
            return loud

        # 50 loud 10 ms frames = half a second of the tone actually crossed the SFU.
        assert await asyncio.wait_for(loud_frames(50), 15) == 50
        await stream.aclose()
    finally:
        if feeder is not None:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
        await speaker.disconnect()
        await listener.disconnect()
        await source.aclose()
