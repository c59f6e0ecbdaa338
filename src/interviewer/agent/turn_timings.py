"""Where one agent reply's latency went: stage stamps the agent publishes to the room, one packet per reply.

The agent sends a `TurnTimings` on the data topic `TURN_TIMINGS_TOPIC` once a reply has played; the simulated
candidate (candidate.py) collects them and `bench/latency.py` lines them up with its own two stamps (the end
of the answer as it left the microphone, the first audible frame of the reply as it arrived).

Every stamp is wall-clock `time.time()` seconds on both ends. livekit-agents dates its own turn metrics with
`time.time()`, and the candidate and the worker run on one machine, so the stamps share one clock and can be
subtracted across processes; across machines they would carry the clocks' offset.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

TURN_TIMINGS_TOPIC = "interviewer.turn"


class TurnTimings(BaseModel):
    """One reply's stages in the order they happen; None when the library did not report that stage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    speech_id: str
    # The candidate's turn as the agent saw it (None for a reply nobody asked for: the greeting, a prompt).
    user_speech_end: float | None = None  # the VAD's end of speech, back-dated by the silence it waited for
    transcript_final: float | None = None  # the last final transcript of the turn arrived
    turn_end: float | None = None  # the turn was committed: the agent decided the candidate had finished
    # The reply.
    first_token: float | None = None  # first token of the reply's first LLM step
    spoken_token: float | None = None  # first token of the LLM step whose text was spoken (after tool steps)
    first_tts_audio: float | None = None  # first audio chunk out of the TTS
    first_frame_pushed: float  # first frame handed to the room's audio source
    interrupted: bool = False

    def to_payload(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_payload(cls, payload: bytes) -> TurnTimings:
        return cls.model_validate_json(payload)
