"""FakeGeminiLive: a FAKE of Google's Gemini Live API, for tests only (Gemini cannot be reached from here).

It speaks the real wire protocol of `BidiGenerateContent` as google-genai's client uses it: a websocket at
`/ws/google.ai.generativelanguage.<version>.GenerativeService.BidiGenerateContent?key=...`, JSON frames with
camelCase fields: the client's `setup`, `clientContent`, `realtimeInput` and `toolResponse`; the server's
`setupComplete`, `serverContent` (`modelTurn` with `inlineData` PCM audio at 24 kHz, `outputTranscription`,
`generationComplete`, `turnComplete`) and `toolCall`. What the model *says and calls* is a script, given by
the test; everything the client sent is recorded for the test to check.

google-genai always dials `wss://`, so the fake serves TLS with a certificate made for 127.0.0.1 at start;
the client trusts it through `SSL_CERT_FILE` (`ca_file`), which google-genai reads for its websocket.

A script step is a list of actions answering one client turn (a `clientContent` with `turnComplete`):
`CallTool(name, args)` sends a `toolCall` and waits for its `toolResponse`; `Say(text)` sends audio and its
transcription, then completes the turn; `StaySilent()` answers nothing at all; `GoAway()` ends the connection.
`args` and `text` may be functions of the tool responses so far. The script runs across connections: a client
that reconnects carries on where it was.

Session resumption: when the setup asks for it, every completed model turn is followed by a
`sessionResumptionUpdate` with a new handle; a setup that presents a handle (`resumed_with`) resumes,
unless its connection is one of `refuse_resumption_at` (connection numbers, from 0): then the server reads
the setup and closes the socket with `refusal_code` before `setupComplete`, as the Live API answers a stale
or invalid handle. A refused connection is counted in `setups` and listed in `refused`; it runs no script.
`Drop()` closes a connection with an error and no `goAway`; `Then(choose)` decides its actions when reached.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import itertools
import json
import math
import ssl
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

OUTPUT_RATE = 24_000
PATH_PREFIX = "/ws/google.ai.generativelanguage."
PATH_SUFFIX = ".GenerativeService.BidiGenerateContent"

Responses = list[dict[str, Any]]


@dataclass
class CallTool:
    name: str
    args: dict[str, Any] | Callable[[Responses], dict[str, Any]] = field(default_factory=dict)


@dataclass
class Say:
    text: str | Callable[[Responses], str]


@dataclass
class StaySilent:
    """Accept the turn and send nothing back: the stall Live API users report ("generate_reply timed out
    waiting for generation_created")."""


@dataclass
class GoAway:
    """Warn the client that this connection ends (`goAway`), then close the socket, as the Live API does when
    a connection reaches its lifetime. Last in its step: nothing more is sent on this connection."""

    time_left: str = "0s"


@dataclass
class Drop:
    """Close the socket with an error and no warning (a server fault, a network cut): the client has to
    reconnect by itself. Last in its step."""

    code: int = 1011
    reason: str = "internal error"


@dataclass
class Then:
    """Actions decided when this point of the step is reached, from the tool responses so far: a model
    that follows what the tools told it (say the step, or say goodbye and end)."""

    choose: Callable[[Responses], Sequence[CallTool | Say]]


Action = CallTool | Say | StaySilent | GoAway | Drop | Then

REFUSAL_CODE = 1008
REFUSAL_REASON = "session resumption handle is invalid or has expired"


def _field(message: dict[str, Any], camel: str) -> Any:
    """A protobuf JSON field: google-genai sends some in snake_case (`client_content`), the API takes both."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return message.get(camel, message.get(snake))


def _loopback_tls(workdir: Path, host: str) -> tuple[Path, ssl.SSLContext]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-gemini-live")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = workdir / "fake-gemini.crt", workdir / "fake-gemini.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    return cert_file, tls


def _tone(seconds: float) -> bytes:
    """A soft 220 Hz tone: real PCM16 audio, so the client's audio path decodes and forwards something."""
    frames = int(OUTPUT_RATE * seconds)
    return b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 220 * n / OUTPUT_RATE))) for n in range(frames)
    )


@dataclass
class FakeGeminiLive:
    script: Iterable[Sequence[Action]]  # iterated once, a step per client turn: may be open-ended
    host: str = "127.0.0.1"
    setups: list[dict[str, Any]] = field(default_factory=list)
    client_turns: list[dict[str, Any]] = field(default_factory=list)
    tool_responses: Responses = field(default_factory=list)
    realtime_inputs: int = 0
    silent_turns: int = 0
    paths: list[str] = field(default_factory=list)
    ca_file: Path | None = None
    api_keys: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)  # resumption handles handed out, in order
    resumed_with: list[str | None] = field(default_factory=list)  # per connection: the handle presented
    texts: list[tuple[int, str, str]] = field(default_factory=list)  # (connection, role, text) received
    refuse_resumption_at: frozenset[int] = frozenset()  # connections whose presented handle is refused
    refusal_code: int = REFUSAL_CODE
    refused: list[int] = field(default_factory=list)  # connections refused, in order
    on_say: Callable[[str], None] | None = None  # told each line the model speaks (e.g. to pass its time)
    _server: Server | None = field(default=None, init=False)
    _steps: Iterator[Sequence[Action]] = field(default_factory=lambda: iter(()), init=False)
    _connected: asyncio.Condition | None = field(default=None, init=False)
    _ids: itertools.count[int] = field(default_factory=itertools.count, init=False)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"https://{self.host}:{port}"

    async def start(self, workdir: Path) -> FakeGeminiLive:
        """Serve on a free loopback port; the certificate to trust is written to `self.ca_file`."""
        self.ca_file, tls = _loopback_tls(workdir, self.host)
        self._steps = iter(self.script)
        self._connected = asyncio.Condition()
        self._server = await serve(self._connection, self.host, 0, ssl=tls)
        return self

    async def wait_connections(self, count: int) -> None:
        """Until `count` connections have completed their setup."""
        assert self._connected is not None
        async with self._connected:
            await self._connected.wait_for(lambda: len(self.setups) >= count)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _connection(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        url = urlparse(ws.request.path)
        self.paths.append(url.path)
        if not (url.path.startswith(PATH_PREFIX) and url.path.endswith(PATH_SUFFIX)):
            await ws.close(1008, f"unknown method {url.path}")
            return
        self.api_keys.extend(parse_qs(url.query).get("key", []))
        self.api_keys.extend(v for k, v in ws.request.headers.raw_items() if k.lower() == "x-goog-api-key")
        first = json.loads(await ws.recv())
        if "setup" not in first:
            await ws.close(1007, "the first message must be setup")
            return
        setup = first["setup"]
        connection = len(self.setups)
        resumption = _field(setup, "sessionResumption")
        handle = None if resumption is None else _field(resumption, "handle")
        self.resumed_with.append(handle)
        self.setups.append(setup)
        refuse = handle is not None and connection in self.refuse_resumption_at
        if refuse:
            self.refused.append(connection)
        else:
            await ws.send(json.dumps({"setupComplete": {}}))
        assert self._connected is not None
        async with self._connected:
            self._connected.notify_all()
        if refuse:
            await ws.close(self.refusal_code, REFUSAL_REASON)
            return
        pending_tool: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        turns: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        async def read() -> None:
            try:
                with contextlib.suppress(ConnectionClosed):  # the client may close with any code
                    async for raw in ws:
                        message = json.loads(raw)
                        if (tool_response := _field(message, "toolResponse")) is not None:
                            for response in _field(tool_response, "functionResponses") or []:
                                self.tool_responses.append(response)
                                await pending_tool.put(response)
                        elif _field(message, "realtimeInput") is not None:
                            self.realtime_inputs += 1
                        elif (content := _field(message, "clientContent")) is not None:
                            self.client_turns.append(content)
                            for turn in _field(content, "turns") or []:
                                for part in turn.get("parts") or []:
                                    if part.get("text"):
                                        self.texts.append((connection, turn.get("role", ""), part["text"]))
                            if _field(content, "turnComplete"):
                                await turns.put(content)
            finally:
                await turns.put(None)  # the client went away: end this connection's script

        reader = asyncio.create_task(read())
        try:
            while await turns.get() is not None:
                for action in next(self._steps, ()):
                    await self._act(ws, action, pending_tool, resumable=resumption is not None)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _act(
        self,
        ws: ServerConnection,
        action: Action,
        pending: asyncio.Queue[dict[str, Any]],
        *,
        resumable: bool,
    ) -> None:
        if isinstance(action, GoAway):
            await ws.send(json.dumps({"goAway": {"timeLeft": action.time_left}}))
            await ws.close(1001, "connection lifetime reached")
            return
        if isinstance(action, Then):
            for chosen in action.choose(self.tool_responses):
                await self._act(ws, chosen, pending, resumable=resumable)
            return
        if isinstance(action, Drop):
            await ws.close(action.code, action.reason)
            return
        if isinstance(action, StaySilent):
            self.silent_turns += 1
            return
        if isinstance(action, CallTool):
            args = action.args(self.tool_responses) if callable(action.args) else action.args
            call = {"id": f"fake-call-{next(self._ids)}", "name": action.name, "args": args}
            await ws.send(json.dumps({"toolCall": {"functionCalls": [call]}}))
            await asyncio.wait_for(pending.get(), 10)
            return
        text = action.text(self.tool_responses) if callable(action.text) else action.text
        if self.on_say is not None:
            self.on_say(text)
        audio = base64.b64encode(_tone(0.4)).decode()
        part = {"inlineData": {"mimeType": f"audio/pcm;rate={OUTPUT_RATE}", "data": audio}}
        await ws.send(json.dumps({"serverContent": {"modelTurn": {"parts": [part]}}}))
        await ws.send(json.dumps({"serverContent": {"outputTranscription": {"text": text}}}))
        await ws.send(json.dumps({"serverContent": {"generationComplete": True}}))
        await ws.send(json.dumps({"serverContent": {"turnComplete": True}}))
        if resumable:
            self.handles.append(f"fake-resume-{len(self.handles)}")
            update = {"newHandle": self.handles[-1], "resumable": True}
            await ws.send(json.dumps({"sessionResumptionUpdate": update}))
