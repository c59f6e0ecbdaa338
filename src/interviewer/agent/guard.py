"""The Greeting Guard: no tool takes effect until the greeting has played and the agent is listening.

Engine-agnostic: it knows nothing of LiveKit. The session wiring tells it when the greeting finished and
when the agent state changed; tools ask it before doing anything. A realtime model may call tools whenever
the candidate speaks, so the check sits in the tool path itself, not in the prompt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REFUSAL_MESSAGE = (
    "Refused: the interview has not started yet. Finish the greeting and wait for the candidate to "
    "speak; do not call any tool until then."
)


class GuardClosed(Exception):
    """A tool was called while the guard is closed. Nothing was done."""

    def __init__(self, tool: str) -> None:
        super().__init__(REFUSAL_MESSAGE)
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
