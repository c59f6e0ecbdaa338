"""The Greeting Guard: no tool takes effect until the greeting has played and the agent is listening.

Engine-agnostic: it knows nothing of LiveKit. The session wiring tells it when the greeting finished and
when the agent state changed; tools ask it before doing anything. A realtime model may call tools whenever
the candidate speaks, so the check sits in the tool path itself, not in the prompt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from interviewer.interview.wording import GUARD_REFUSAL


class RefusalReason(StrEnum):
    guard_closed = "guard_closed"  # the greeting has not finished: wait for the candidate
    wrong_question = "wrong_question"
    no_answer_yet = "no_answer_yet"
    invalid_argument = "invalid_argument"


class ToolRefusal(BaseModel):
    """What a refused tool returns to the model, as JSON: recognised by `reason`, never by its wording."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    refused: bool = True
    reason: RefusalReason
    message: str


class Refused(Exception):
    """A tool call that changed nothing; `refusal` is what the model is told."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.refusal = ToolRefusal(reason=reason, message=message)


class GuardClosed(Refused):
    """A tool was called while the guard is closed. Nothing was done."""

    def __init__(self, tool: str) -> None:
        super().__init__(RefusalReason.guard_closed, GUARD_REFUSAL)
        self.tool = tool


@dataclass
class GreetingGuard:
    on_refused: Callable[[str, dict[str, Any]], None] | None = None
    refused: int = 0
    _greeting_done: bool = False
    _agent_state: str = "initializing"
    _opened: asyncio.Event = field(default_factory=asyncio.Event)
    _on_open: list[Callable[[], None]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self._opened.is_set()

    def greeting_finished(self) -> None:
        self._greeting_done = True
        self._maybe_open()

    def agent_state_changed(self, state: str) -> None:
        self._agent_state = state
        self._maybe_open()

    def on_open(self, callback: Callable[[], None]) -> None:
        if self.is_open:
            callback()
        else:
            self._on_open.append(callback)

    async def wait_open(self) -> None:
        await self._opened.wait()

    def check(self, tool: str, arguments: dict[str, Any]) -> None:
        """Raise `GuardClosed` (after recording the refusal) unless the guard is open."""
        if self.is_open:
            return
        self.refused += 1
        if self.on_refused is not None:
            self.on_refused(tool, arguments)
        raise GuardClosed(tool)

    def _maybe_open(self) -> None:
        # Once open it stays open: later "speaking" states are the interview itself.
        if self.is_open or not (self._greeting_done and self._agent_state == "listening"):
            return
        self._opened.set()
        callbacks, self._on_open = self._on_open, []
        for callback in callbacks:
            callback()
