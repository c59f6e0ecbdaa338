"""One interview's journal: its turns and tool events, written to the store in the order they happened.

The writes run on a thread of their own, so the voice pipeline's event loop never waits on the database.
A write the database refuses for a reason that passes (Postgres restarting, a dropped connection, SQLite
busy) is retried until it lands: a database restart delays the journal, it loses nothing. Each entry carries
the instant it happened, not the instant it was written, because a take-over replays the journal by those
instants (resume.py).

What is still queued when the job process itself dies during an outage is lost: there is nowhere durable to
keep it that the next job could read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from interviewer.store import Store
from interviewer.store.models import utcnow
from interviewer.store.outage import is_transient

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 2.0
# What a journal still holds when its job stops gets this long to land (the database may be restarting).
CLOSE_SECONDS = 15.0


class InterviewWrites(Protocol):
    """What a live interview writes as it goes."""

    def turn(self, speaker: str, text: str, question_id: str | None) -> None: ...

    def tool_event(
        self, tool: str, arguments: dict[str, Any], outcome: str, detail: str | None = None
    ) -> None: ...


@dataclass(frozen=True)
class _Turn:
    speaker: str
    text: str
    question_id: str | None
    at: datetime


@dataclass(frozen=True)
class _ToolEvent:
    tool: str
    arguments: dict[str, Any]
    outcome: str
    detail: str | None
    at: datetime


class Journal:
    """Queues the writes in order and lands them on its own thread, retrying through outages."""

    def __init__(
        self,
        store: Store,
        interview_id: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        retry_max_seconds: float = RETRY_MAX_SECONDS,
    ) -> None:
        self.store = store
        self.interview_id = interview_id
        self._clock = clock
        self._retry_max = retry_max_seconds
        self._queue: deque[_Turn | _ToolEvent] = deque()  # the first is being written until it lands
        self._condition = threading.Condition()
        self._closing = False
        self._running = False  # a writer thread is up; it ends once closing finds the queue empty
        self.retries = 0

    def turn(self, speaker: str, text: str, question_id: str | None) -> None:
        self._put(_Turn(speaker, text, question_id, self._clock()))

    def tool_event(
        self, tool: str, arguments: dict[str, Any], outcome: str, detail: str | None = None
    ) -> None:
        self._put(_ToolEvent(tool, dict(arguments), outcome, detail, self._clock()))

    @property
    def pending(self) -> int:
        """Entries not yet in the store."""
        with self._condition:
            return len(self._queue)

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued is in the store; False if it was not within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._queue:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._condition.wait(left)
            return True

    def close(self, timeout: float) -> bool:
        """Flush, then let the thread end (a later write starts another). What is still queued after
        `timeout` gets one more attempt, and is reported as lost."""
        flushed = self.flush(timeout)
        with self._condition:
            self._closing = True
            lost = len(self._queue)
            self._condition.notify_all()
        if not flushed:
            log.error(
                "the store stayed unavailable: %d journal entries of interview %s had not landed when the "
                "job stopped waiting for them",
                lost,
                self.interview_id,
            )
        return flushed

    def _put(self, entry: _Turn | _ToolEvent) -> None:
        with self._condition:
            self._closing = False
            self._queue.append(entry)
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name=f"journal-{self.interview_id}", daemon=True).start()
            self._condition.notify_all()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._queue and not self._closing:
                    self._condition.wait()
                if not self._queue:
                    self._running = False
                    return
                entry = self._queue[0]
            self._land(entry)
            with self._condition:
                self._queue.popleft()
                self._condition.notify_all()

    def _land(self, entry: _Turn | _ToolEvent) -> None:
        """Write one entry, retrying while the error is one that passes; give up only when closing."""
        backoff = RETRY_FIRST_SECONDS
        outage_started: float | None = None
        while True:
            try:
                self._write(entry)
            except Exception as error:
                if not is_transient(error):
                    # The driver's own message, not SQLAlchemy's: that one repeats the parameters, the
                    # candidate's words among them.
                    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
                    log.error(
                        "a journal entry of interview %s could not be written: %s: %s",
                        self.interview_id,
                        type(error).__name__,
                        reason,
                    )
                    return
                if outage_started is None:
                    outage_started = time.monotonic()
                    log.warning("the store is unavailable (%s); retrying", type(error).__name__)
                self.retries += 1
                with self._condition:
                    if self._closing:
                        return  # close() gave up waiting and has said what is lost
                    self._condition.wait(backoff)
                backoff = min(2 * backoff, self._retry_max)
                continue
            if outage_started is not None:
                log.warning("the store is back after %.1f s", time.monotonic() - outage_started)
            return

    def _write(self, entry: _Turn | _ToolEvent) -> None:
        if isinstance(entry, _Turn):
            self.store.add_turn(
                self.interview_id, entry.speaker, entry.text, question_id=entry.question_id, ended_at=entry.at
            )
        else:
            self.store.add_tool_event(
                self.interview_id, entry.tool, entry.arguments, entry.outcome, entry.detail, at=entry.at
            )


class NoWrites:
    """A journal that keeps nothing: a replay of what is already stored (resume.py)."""

    def turn(self, speaker: str, text: str, question_id: str | None) -> None:
        return None

    def tool_event(
        self, tool: str, arguments: dict[str, Any], outcome: str, detail: str | None = None
    ) -> None:
        return None
