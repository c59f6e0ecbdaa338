"""The candidate's token against the real, pinned livekit-server: the join creates the room (it was never
pre-created) with our RoomConfiguration, and `rooms.delete_room` removes it and disconnects everyone."""

from __future__ import annotations

import asyncio

import pytest
from livekit import api, rtc

from interviewer import rooms
from interviewer.config import load_settings
from tests.fixtures.livekit import LiveKitServer

pytestmark = pytest.mark.integration


async def test_join_creates_the_room_and_delete_room_removes_it(livekit_server: LiveKitServer) -> None:
    settings = load_settings(
        INTERVIEWER_MODE="test",
        LIVEKIT_URL=livekit_server.url,
        LIVEKIT_API_KEY=livekit_server.api_key,
        LIVEKIT_API_SECRET=livekit_server.api_secret,
    )
    room_name = rooms.new_room_name()
    dispatch = rooms.DispatchMetadata(interview_id="iv_rooms", role="backend-engineer", candidate_uid="uid-r")
    token = rooms.mint_participant_token(
        settings, identity="uid-r", name="R", room=room_name, dispatch=dispatch
    )

    async with api.LiveKitAPI(
        rooms.http_url(settings.livekit_url), settings.livekit_api_key, settings.livekit_secret()
    ) as lk:
        before = await lk.room.list_rooms(api.ListRoomsRequest(names=[room_name]))
        assert list(before.rooms) == []  # nothing exists until the candidate joins

        room = rtc.Room()
        disconnected = asyncio.Event()
        room.on("disconnected", lambda *_: disconnected.set())
        await asyncio.wait_for(room.connect(settings.livekit_url, token.jwt), timeout=20)
        try:
            assert room.name == room_name
            assert room.local_participant.identity == "uid-r"
            listed = await lk.room.list_rooms(api.ListRoomsRequest(names=[room_name]))
            assert [r.name for r in listed.rooms] == [room_name]
            assert listed.rooms[0].empty_timeout == settings.room_empty_timeout_seconds
            assert listed.rooms[0].departure_timeout == settings.room_departure_timeout_seconds

            assert await rooms.delete_room(settings, room_name) is True
            await asyncio.wait_for(disconnected.wait(), timeout=10)
            after = await lk.room.list_rooms(api.ListRoomsRequest(names=[room_name]))
            assert list(after.rooms) == []
        finally:
            await room.disconnect()
    assert await rooms.delete_room(settings, room_name) is False
