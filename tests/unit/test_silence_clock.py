"""The agent's count of a candidate's silence: what the attention loop acts on each second."""

from __future__ import annotations

from interviewer.agent.attention import Attend, SilenceClock


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_silence_counts_from_the_agent_listening() -> None:
    clock = Clock()
    silence = SilenceClock(clock)
    clock.now += 5
    silence.agent_listening()
    clock.now += 12
    assert silence.check(listening=True, connected=True) is Attend.silence
    assert silence.silent_for() == 12


def test_a_lost_room_connection_is_not_the_candidates_silence() -> None:
    clock = Clock()
    silence = SilenceClock(clock)
    for _ in range(30):  # half a minute of the agent's connection retrying a lost node
        clock.now += 1
        assert silence.check(listening=True, connected=False) is None
    clock.now += 2
    assert silence.check(listening=True, connected=True) is Attend.silence
    assert silence.silent_for() == 2  # counted from the reconnect, not from before the loss


def test_a_long_answer_is_attended_while_connected_only() -> None:
    clock = Clock()
    silence = SilenceClock(clock)
    silence.candidate_speaking(True)
    assert silence.check(listening=False, connected=False) is None
    assert silence.check(listening=False, connected=True) is Attend.long_answer
    silence.candidate_speaking(False)
    assert silence.check(listening=False, connected=True) is None  # the agent is speaking: no prompt
