"""FakeOpenAIChat: a FAKE of an OpenAI-compatible Chat Completions server, for tests only (OpenAI, Ollama or
vLLM cannot be reached from here).

It speaks the real wire protocol as the `openai` client uses it with `stream=True`: `POST
{base}/chat/completions` with a JSON body, answered as server-sent events, one `data: {chunk}` line per
`chat.completion.chunk` (text in `choices[0].delta.content`, tool calls in `choices[0].delta.tool_calls`
with the arguments split across chunks the way real servers stream them), a usage chunk, then
`data: [DONE]`. `GET {base}/models` lists the one model. What the model *says and calls* is a script: one
`Reply` per assistant message, chosen by how many the request's conversation already holds; past the end of
the script the answer is an empty stop.
Every request body and its Authorization header are recorded for the test to check.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Messages = list[dict[str, Any]]
ARG_PIECE = 7  # characters of a tool call's arguments per chunk: several chunks, as real servers send


@dataclass
class Call:
    name: str
    args: dict[str, Any] | Callable[[Messages], dict[str, Any]] = field(default_factory=dict)


@dataclass
class Reply:
    """One streamed completion: optional text, then optional tool calls."""

    text: str | Callable[[Messages], str] = ""
    calls: Sequence[Call] = ()


@dataclass
class FakeOpenAIChat:
    script: Sequence[Reply]
    model: str = "fake-chat-model"
    host: str = "127.0.0.1"
    api_key: str | None = None  # when set, a request without `Authorization: Bearer <it>` gets a 401
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    _runner: web.AppRunner | None = field(default=None, init=False)
    _port: int = field(default=0, init=False)
    _ids: itertools.count[int] = field(default_factory=itertools.count, init=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}/v1"

    async def start(self) -> FakeOpenAIChat:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _refused(self, request: web.Request) -> web.Response | None:
        self.authorizations.append(request.headers.get("Authorization"))
        if self.api_key is None or request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        error = {"message": "Incorrect API key provided.", "type": "invalid_request_error"}
        return web.json_response({"error": {**error, "code": "invalid_api_key"}}, status=401)

    async def _models(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        if (refused := self._refused(request)) is not None:
            return refused
        body = await request.json()
        self.requests.append(body)
        if not body.get("stream"):
            return web.json_response({"error": {"message": "this fake only streams"}}, status=400)
        messages: Messages = body["messages"]
        # The reply is chosen by how far the conversation is, not by how many requests came: a request made
        # again for the same turn (preemptive generation, a retry) gets the same reply.
        index = sum(1 for message in messages if message.get("role") == "assistant")
        reply = self.script[index] if index < len(self.script) else Reply()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        completion = f"chatcmpl-fake-{len(self.requests)}"

        async def send(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {
                "id": completion,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        text = reply.text(messages) if callable(reply.text) else reply.text
        for position, word in enumerate(text.split(" ") if text else []):
            await send({"content": word if position == 0 else " " + word})
        for position, call in enumerate(reply.calls):
            args = json.dumps(call.args(messages) if callable(call.args) else call.args)
            head = {"index": position, "id": f"call_fake_{next(self._ids)}", "type": "function"}
            await send({"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]})
            for start in range(0, len(args), ARG_PIECE):
                piece = args[start : start + ARG_PIECE]
                await send({"tool_calls": [{"index": position, "function": {"arguments": piece}}]})
        await send({}, "tool_calls" if reply.calls else "stop")
        usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        last = {"id": completion, "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
        await response.write(f"data: {json.dumps({**last, 'choices': [], 'usage': usage})}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
