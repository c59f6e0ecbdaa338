"""When Gemini Live refuses to resume: a fresh session, primed with a recap of the interview so far.

A connection that presents a stale or invalid resumption handle is closed by the server before
`setupComplete`. livekit-plugins-google treats a setup that fails as fatal: the realtime session ends, and
with it the AgentSession and the interview. Here the connection is dialled again at once, without the
handle (cleared in the plugin too, through agent/compat.py, so the plugin sends its history afresh rather
than "what came after the handle"), and with the interview's recap appended to the system instructions,
so the model knows which questions were asked, which one is open (its question_id, which tool calls in
the history do not carry), and what comes next. The candidate hears nothing of it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from google.genai import errors, types
from google.genai.live import AsyncSession
from livekit.plugins import google
from livekit.plugins.google.realtime.realtime_api import RealtimeSession

from interviewer.agent import compat

log = logging.getLogger(__name__)


class FreshStartRealtimeModel(google.realtime.RealtimeModel):
    """Gemini's RealtimeModel whose sessions start afresh, primed with `recap()`, when a resumption is
    refused. `recap` is set by whoever owns the interview (`wire_session`); without it the fresh session
    gets the plain instructions."""

    # Class defaults, so the plugin's own (typed) constructor stays as it is.
    recap: Callable[[], str] | None = None
    fresh_starts: int = 0  # resumptions refused and replaced by a fresh session

    def session(self, *, turn_detection_disabled: bool = False) -> RealtimeSession:
        realtime = super().session(turn_detection_disabled=turn_detection_disabled)
        compat.wrap_gemini_connect(realtime, lambda connect: self._fresh_when_refused(realtime, connect))
        return realtime

    def _fresh_when_refused(self, realtime: RealtimeSession, connect: compat.GeminiConnect) -> Any:
        @contextlib.asynccontextmanager
        async def dial(*, model: str, config: types.LiveConnectConfig) -> AsyncIterator[AsyncSession]:
            handle = config.session_resumption.handle if config.session_resumption is not None else None
            async with contextlib.AsyncExitStack() as stack:
                try:
                    live: AsyncSession = await stack.enter_async_context(connect(model=model, config=config))
                except errors.APIError as error:
                    if handle is None:
                        raise  # not a resumption: the plugin's own handling stands
                    log.warning(
                        "Gemini Live refused to resume the session (%s %s): starting a fresh one, primed "
                        "with the interview so far",
                        error.code,
                        error.message or error.status or "",
                    )
                    compat.clear_gemini_resumption_handle(realtime)
                    fresh = self._fresh_config(config)
                    live = await stack.enter_async_context(connect(model=model, config=fresh))
                    self.fresh_starts += 1
                # Outside the try: an error raised by the plugin while it uses the connection is its own.
                yield live

        return dial

    def _fresh_config(self, config: types.LiveConnectConfig) -> types.LiveConnectConfig:
        base = ""
        if config.system_instruction is not None and isinstance(config.system_instruction, types.Content):
            base = "".join(part.text or "" for part in config.system_instruction.parts or [])
        recap = ""
        if self.recap is not None:
            try:
                recap = self.recap()
            except Exception:  # a fresh session without the recap beats no session at all
                log.exception("the interview recap could not be built; the fresh session goes without it")
        text = "\n\n".join(part for part in (base, recap) if part)
        return config.model_copy(
            update={
                "session_resumption": types.SessionResumptionConfig(),
                "system_instruction": types.Content(parts=[types.Part(text=text)]) if text else None,
            }
        )
