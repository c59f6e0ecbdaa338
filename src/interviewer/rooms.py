"""LiveKit credentials: room names, the candidate's participant token, and room deletion.

The api is the only place a candidate's LiveKit credential is made. The token carries the agent dispatch
(`RoomConfiguration.agents`), so the candidate's join creates the room and dispatches exactly one agent in one
step; the room is never pre-created and no other dispatch path exists. A rejoin token carries no dispatch.
The API secret is read from `Settings` here and never leaves the process: only signed JWTs do.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from livekit import api as lkapi
from livekit.protocol.agent_dispatch import RoomAgentDispatch
from livekit.protocol.room import RoomConfiguration

from interviewer.config import Settings

ROOM_PREFIX = "iv-"
ROOM_RANDOM_BYTES = 24  # 192 bits: a room name can be neither guessed nor enumerated
MICROPHONE = "microphone"  # the only TrackSource a candidate may publish


def new_room_name() -> str:
    return ROOM_PREFIX + secrets.token_urlsafe(ROOM_RANDOM_BYTES)


@dataclass(frozen=True)
class DispatchMetadata:
    """What the agent job receives as `ctx.job.metadata` (JSON)."""

    interview_id: str
    role: str
    candidate_uid: str

    def to_json(self) -> str:
        return json.dumps(
            {"interview_id": self.interview_id, "role": self.role, "candidate_uid": self.candidate_uid},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str) -> DispatchMetadata:
        data = json.loads(raw)
        return cls(
            interview_id=str(data["interview_id"]),
            role=str(data["role"]),
            candidate_uid=str(data["candidate_uid"]),
        )


@dataclass(frozen=True)
class ParticipantToken:
    jwt: str
    room: str
    identity: str
    expires_at: datetime

    def __repr__(self) -> str:  # the JWT is a credential: keep it out of logs and tracebacks
        return f"ParticipantToken(room={self.room!r}, identity={self.identity!r}, expires={self.expires_at})"


def candidate_grants(room: str) -> lkapi.VideoGrants:
    """Join exactly `room`, publish the microphone only, subscribe; nothing administrative."""
    return lkapi.VideoGrants(
        room_join=True,
        room=room,
        room_create=False,
        room_list=False,
        room_record=False,
        room_admin=False,
        can_publish=True,
        can_publish_sources=[MICROPHONE],
        can_subscribe=True,
        can_publish_data=False,
        can_update_own_metadata=False,
        hidden=False,
        agent=False,
    )


def room_configuration(settings: Settings, dispatch: DispatchMetadata | None) -> RoomConfiguration:
    config = RoomConfiguration(
        empty_timeout=settings.room_empty_timeout_seconds,
        departure_timeout=settings.room_departure_timeout_seconds,
    )
    if dispatch is not None:
        config.agents.append(RoomAgentDispatch(agent_name=settings.agent_name, metadata=dispatch.to_json()))
    return config


def mint_participant_token(
    settings: Settings,
    *,
    identity: str,
    name: str | None,
    room: str,
    dispatch: DispatchMetadata | None,
) -> ParticipantToken:
    """A short-lived token for one participant in one room.

    `dispatch` is set only for the token that creates the room (`POST /v1/interviews`); a rejoin token
    passes None, so joining with it can never dispatch a second agent.
    """
    ttl = settings.token_ttl_seconds
    token = (
        lkapi.AccessToken(settings.livekit_api_key, settings.livekit_secret())
        .with_identity(identity)
        .with_name(name or "Candidate")
        .with_kind("standard")
        .with_ttl(timedelta(seconds=ttl))
        .with_grants(candidate_grants(room))
        .with_room_config(room_configuration(settings, dispatch))
    )
    for _ in range(3):
        encoded = token.to_jwt()
        # livekit-api reads the clock twice (nbf, exp): across a second boundary exp - nbf is ttl + 1.
        # Re-mint in that (microsecond-wide) case, so the lifetime never exceeds the configured TTL.
        claims = _payload(encoded)
        if int(claims["exp"]) - int(claims["nbf"]) <= ttl:
            expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
            return ParticipantToken(jwt=encoded, room=room, identity=identity, expires_at=expires_at)
    raise RuntimeError("could not mint a token within the configured TTL")  # pragma: no cover


def _payload(encoded: str) -> dict[str, Any]:
    """The claims of a JWT we just signed ourselves (no verification needed; far cheaper than pyjwt's)."""
    segment = encoded.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))


def http_url(livekit_url: str) -> str:
    """The server API speaks HTTP on the same host:port as the signalling websocket."""
    if livekit_url.startswith("wss://"):
        return "https://" + livekit_url.removeprefix("wss://")
    return "http://" + livekit_url.removeprefix("ws://")


async def delete_room(settings: Settings, room: str, *, timeout: float = 10.0) -> bool:
    """Delete `room` (disconnecting everyone in it). True if deleted, False if it did not exist."""
    import aiohttp

    async with lkapi.LiveKitAPI(
        url=http_url(settings.livekit_url),
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_secret(),
        timeout=aiohttp.ClientTimeout(total=timeout),
    ) as client:
        try:
            await client.room.delete_room(lkapi.DeleteRoomRequest(room=room))
        except lkapi.TwirpError as error:
            if error.code == lkapi.TwirpErrorCode.NOT_FOUND:
                return False
            raise
    return True
