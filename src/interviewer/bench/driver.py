"""The candidates' own process for impaired runs: started inside netimpair's namespace so their signalling
and media cross the lossy bridge, fed session specs over a pipe (one JSON line each), answering with one
JSON line per session on stdout.

`python -m interviewer.bench.driver` is the child; `DriverProcess` is the parent's handle on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from typing import Any

from interviewer.bench.session import run_session

DRIVER_MODULE = "interviewer.bench.driver"


async def serve_sessions_from_stdin() -> int:
    """Run the session specs that arrive on stdin (one JSON line each), answer on stdout."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks: set[asyncio.Task[None]] = set()

    async def one(spec: dict[str, Any]) -> None:
        try:
            result = await asyncio.wait_for(run_session(spec), spec["session_timeout"])
        except TimeoutError:
            result = {"error": "session timed out"}
        print(json.dumps({"index": spec["index"], **result}), flush=True)

    while line := await reader.readline():
        task = asyncio.create_task(one(json.loads(line)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return 0


class DriverProcess:
    """The candidates' process inside the namespace, fed session specs over a pipe."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc: asyncio.subprocess.Process | None = None
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Its own session, so that a stuck driver can be killed with all its children by process group.
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            with contextlib.suppress(ValueError):
                result = json.loads(line)
                future = self.waiting.pop(result.pop("index"), None)
                if future is not None and not future.done():
                    future.set_result(result)
        # The driver is gone: every session still waiting on it has failed, none may hang.
        for future in self.waiting.values():
            if not future.done():
                future.set_result({"error": "the candidates' process exited"})

    async def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[spec["index"]] = future
        self.proc.stdin.write((json.dumps(spec) + "\n").encode())
        await self.proc.stdin.drain()
        return await future

    async def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()  # end of input: the driver finishes its sessions and exits
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 9)
            await self.proc.wait()
        if self._reader is not None:
            await self._reader


if __name__ == "__main__":
    sys.exit(asyncio.run(serve_sessions_from_stdin()))
