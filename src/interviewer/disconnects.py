"""Why a participant left the room: on purpose, or because its connection was lost.

On purpose: it left itself, the room was deleted or closed, or the api removed it. Anything else (a LiveKit
node shut down or restarted, signalling or media that timed out, a resume the server no longer knew) is a
lost connection while the interview goes on. The candidate's client then rejoins with a fresh token, and
the agent's job leaves the interview to a take-over rather than ending it (agent/recovery.py): a fresh job
resumes it from the store, where every turn already is.
"""

from __future__ import annotations

from livekit import rtc

_ON_PURPOSE = frozenset(
    {
        rtc.DisconnectReason.CLIENT_INITIATED,
        rtc.DisconnectReason.ROOM_DELETED,
        rtc.DisconnectReason.ROOM_CLOSED,
        rtc.DisconnectReason.PARTICIPANT_REMOVED,
        rtc.DisconnectReason.DUPLICATE_IDENTITY,
    }
)


def connection_lost(reason: rtc.DisconnectReason.ValueType) -> bool:
    return reason not in _ON_PURPOSE
