"""A lost connection is told apart from an ending, for every reason LiveKit can give."""

from __future__ import annotations

from livekit import rtc

from interviewer.disconnects import connection_lost


def test_endings_on_purpose_are_not_lost_connections() -> None:
    for reason in ("CLIENT_INITIATED", "ROOM_DELETED", "ROOM_CLOSED", "PARTICIPANT_REMOVED"):
        assert not connection_lost(rtc.DisconnectReason.Value(reason)), reason


def test_a_node_going_away_or_a_timeout_is_a_lost_connection() -> None:
    for reason in (
        "SERVER_SHUTDOWN",
        "SIGNAL_CLOSE",
        "CONNECTION_TIMEOUT",
        "STATE_MISMATCH",
        "UNKNOWN_REASON",
    ):
        assert connection_lost(rtc.DisconnectReason.Value(reason)), reason


def test_every_reason_livekit_knows_is_classified_one_way_or_the_other() -> None:
    names = rtc.DisconnectReason.keys()
    assert len(names) >= 15  # an upgrade that drops the enum would make the checks above vacuous
    ended = [name for name in names if not connection_lost(rtc.DisconnectReason.Value(name))]
    assert sorted(ended) == sorted(
        ["CLIENT_INITIATED", "ROOM_DELETED", "ROOM_CLOSED", "PARTICIPANT_REMOVED", "DUPLICATE_IDENTITY"]
    )
