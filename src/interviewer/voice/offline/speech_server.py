"""One process per worker that holds the offline speech models for every interview on that worker.

Without it, every job process loaded Whisper and Piper for itself: hundreds of MB per interview, and seconds
of CPU per process start, which is what made a burst of candidates wait. Now a job process loads only its
VAD (small, and it must see every audio frame at once) and sends each transcription and each sentence to
synthesise here, over a Unix socket in the abstract namespace (no file to clean up). The server answers
each connection on a thread; CTranslate2 (Whisper) and onnxruntime (Piper) run concurrent calls in native
code, so several interviews are served at once.

Wire format, both ways: a 4-byte big-endian length and a JSON header, then a 4-byte length and a body
(float32 PCM for transcription requests, int16 PCM for synthesis replies). One request per connection.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from interviewer.config import Settings, get_settings
from interviewer.interview import wording

log = logging.getLogger(__name__)

SOCKET_ENV = "INTERVIEWER_SPEECH_SOCKET"
READY_TIMEOUT = 120.0  # model loading on a busy machine
CALL_TIMEOUT = 60.0
_LENGTH = struct.Struct(">I")


class SpeechServerError(RuntimeError):
    pass


# -- framing ------------------------------------------------------------------------------------------


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks, received = [], 0
    while received < size:
        chunk = sock.recv(min(size - received, 1 << 20))
        if not chunk:
            raise SpeechServerError("the speech server closed the connection")
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)


def _send_message(sock: socket.socket, header: dict[str, Any], body: bytes = b"") -> None:
    encoded = json.dumps(header).encode()
    sock.sendall(_LENGTH.pack(len(encoded)) + encoded + _LENGTH.pack(len(body)) + body)


def _recv_message(sock: socket.socket) -> tuple[dict[str, Any], bytes]:
    header = json.loads(_recv_exact(sock, _LENGTH.unpack(_recv_exact(sock, 4))[0]))
    body = _recv_exact(sock, _LENGTH.unpack(_recv_exact(sock, 4))[0])
    if not isinstance(header, dict):
        raise SpeechServerError("malformed header")
    return header, body


# -- server ---------------------------------------------------------------------------------------------


class SentenceCache:
    """The audio of sentences said word for word in many interviews (the greeting's opening, the short
    acknowledgements): synthesised once, then served at once. Bounded, least recently used first out;
    long sentences are not kept, they are rarely repeated."""

    MAX_ENTRIES = 256
    MAX_CHARS = 240

    def __init__(self) -> None:
        self._audio: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(text: str, config: dict[str, Any]) -> tuple[str, str]:
        return text.strip(), json.dumps(config, sort_keys=True)

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self._lock:
            audio = self._audio.get(key)
            if audio is None:
                self.misses += 1
                return None
            self.hits += 1
            self._audio.move_to_end(key)
            return audio

    def put(self, key: tuple[str, str], audio: bytes) -> None:
        if len(key[0]) > self.MAX_CHARS or not audio:
            return
        with self._lock:
            self._audio[key] = audio
            self._audio.move_to_end(key)
            while len(self._audio) > self.MAX_ENTRIES:
                self._audio.popitem(last=False)


class _Models:
    def __init__(self, settings: Settings) -> None:
        from faster_whisper import WhisperModel
        from piper import PiperVoice

        from interviewer.voice.offline.models import locate_stt_model, locate_tts_voice

        started = time.perf_counter()
        # Two decodes may run at once (one per core); more calls queue inside CTranslate2.
        self.whisper = WhisperModel(
            str(locate_stt_model(settings)),
            device="cpu",
            compute_type="int8",
            cpu_threads=max(1, min(4, os.cpu_count() or 1)),
            num_workers=2,
            local_files_only=True,
        )
        voice = locate_tts_voice(settings)
        self.piper = PiperVoice.load(voice.model, config_path=voice.config)
        self.sentences = SentenceCache()
        log.info("speech server: models loaded in %.2fs", time.perf_counter() - started)

    def warm(self, sentences: Iterable[str]) -> None:
        for text in sentences:
            self._synthesize(text, {})

    def _synthesize(self, text: str, config: dict[str, Any]) -> bytes:
        key = SentenceCache.key(text, config)
        cached = self.sentences.get(key)
        if cached is not None:
            return cached
        from piper import SynthesisConfig

        chunks = self.piper.synthesize(text, syn_config=SynthesisConfig(**config))
        pcm = b"".join(c.audio_int16_bytes for c in chunks)
        self.sentences.put(key, pcm)
        return pcm

    def handle(self, header: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
        op = header.get("op")
        if op == "ping":
            reply = {"ok": True, "sample_rate": self.piper.config.sample_rate, "pid": os.getpid()}
            return reply | {
                "sentence_hits": self.sentences.hits,
                "sentence_misses": self.sentences.misses,
            }, b""
        if op == "transcribe":
            audio = np.frombuffer(body, dtype=np.float32)
            segments, _info = self.whisper.transcribe(audio, **header["options"])
            found = [{"text": s.text, "avg_logprob": s.avg_logprob} for s in segments]
            return {"ok": True, "segments": found}, b""
        if op == "synthesize":
            pcm = self._synthesize(header["text"], header.get("config", {}))
            return {"ok": True, "sample_rate": self.piper.config.sample_rate}, pcm
        return {"ok": False, "error": f"unknown op {op!r}"}, b""


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    models: _Models


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        try:
            header, body = _recv_message(sock)
            server: _Server = self.server  # type: ignore[assignment]
            reply, payload = server.models.handle(header, body)
        except SpeechServerError:
            return
        except Exception as error:  # a bad request must not take the server down
            log.exception("speech server: request failed")
            reply, payload = {"ok": False, "error": repr(error)}, b""
        with contextlib.suppress(OSError):
            _send_message(sock, reply, payload)


def serve(socket_name: str, settings: Settings) -> None:
    """Bind first (clients wait for `ping`), load the models, then answer until SIGTERM."""
    server = _Server("\0" + socket_name, _Handler, bind_and_activate=True)
    server.models = _Models(settings)
    # After the socket answers: a worker starting up is not kept waiting on sentences it may not need yet.
    threading.Thread(target=server.models.warm, args=(wording.stock_sentences(),), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def main() -> int:
    from interviewer.logs import configure_logging
    from interviewer.parent_death import die_with_parent

    parser = argparse.ArgumentParser(description="the offline speech models of one agent worker")
    parser.add_argument("--socket", required=True, help="abstract Unix socket name")
    parser.add_argument("--parent", type=int, required=True, help="die with this process")
    args = parser.parse_args()
    # SIGKILL: it holds nothing worth saving, and a stopped process would never act on a SIGTERM.
    die_with_parent(args.parent, signal.SIGKILL)
    settings = get_settings()
    configure_logging(settings)
    os.nice(1)  # below the worker's control plane, above nothing else: replies wait on it
    serve(args.socket, settings)
    return 0


# -- client ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeechClient:
    socket_name: str

    @classmethod
    def from_env(cls) -> SpeechClient | None:
        name = os.environ.get(SOCKET_ENV)
        return cls(name) if name else None

    def call(self, header: dict[str, Any], body: bytes = b"") -> tuple[dict[str, Any], bytes]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(CALL_TIMEOUT)
            sock.connect("\0" + self.socket_name)
            _send_message(sock, header, body)
            reply, payload = _recv_message(sock)
        if not reply.get("ok"):
            raise SpeechServerError(str(reply.get("error", "request failed")))
        return reply, payload

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> dict[str, Any]:
        """Until the server answers (it binds before its models load, so connecting waits for them)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.call({"op": "ping"})[0]
            except (OSError, SpeechServerError):
                if time.monotonic() > deadline:
                    raise SpeechServerError(f"no speech server on {self.socket_name!r}") from None
                time.sleep(0.1)


@dataclass(frozen=True)
class _Segment:
    text: str
    avg_logprob: float


class RemoteWhisperModel:
    """Stands in for `faster_whisper.WhisperModel` in `WhisperSTT`: the same `transcribe` call, served by
    the worker's speech server."""

    def __init__(self, client: SpeechClient) -> None:
        self._client = client

    def transcribe(self, audio: npt.NDArray[np.float32], **options: Any) -> tuple[Iterator[_Segment], None]:
        reply, _ = self._client.call(
            {"op": "transcribe", "options": options}, np.ascontiguousarray(audio, dtype=np.float32).tobytes()
        )
        return iter([_Segment(str(s["text"]), float(s["avg_logprob"])) for s in reply["segments"]]), None


@dataclass(frozen=True)
class _VoiceConfig:
    sample_rate: int


@dataclass(frozen=True)
class _Chunk:
    audio_int16_bytes: bytes


class RemotePiperVoice:
    """Stands in for `piper.PiperVoice` in `PiperTTS`: `synthesize` yields the audio of the text (the
    session hands TTS one sentence at a time, so one chunk is one sentence)."""

    def __init__(self, client: SpeechClient, sample_rate: int) -> None:
        self._client = client
        self.config = _VoiceConfig(sample_rate)

    def synthesize(self, text: str, syn_config: Any = None) -> Iterator[_Chunk]:
        config = {}
        if syn_config is not None:
            config = {
                k: getattr(syn_config, k) for k in ("length_scale", "volume") if getattr(syn_config, k, None)
            }
        _reply, pcm = self._client.call({"op": "synthesize", "text": text, "config": config})
        if pcm:
            yield _Chunk(pcm)


# -- the worker's side ------------------------------------------------------------------------------------


class SpeechServerProcess:
    """Started by the worker before its job processes, which find it through the environment."""

    def __init__(self) -> None:
        self.socket_name = f"interviewer-speech-{os.getpid()}-{os.urandom(4).hex()}"
        self._proc: Any = None

    def start(self) -> None:
        import subprocess

        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "interviewer.voice.offline.speech_server",
                "--socket",
                self.socket_name,
                "--parent",
                str(os.getpid()),
            ]
        )
        os.environ[SOCKET_ENV] = self.socket_name

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else int(self._proc.pid)

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=timeout)
        except Exception:
            self._proc.kill()
            self._proc.wait(timeout=timeout)


if __name__ == "__main__":
    sys.exit(main())
