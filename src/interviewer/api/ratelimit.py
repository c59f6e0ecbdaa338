"""Per-uid rate limits (token buckets) and the request-body size limit.

One api instance keeps its buckets in memory (`RateLimiter`). Several instances share them through Redis
when `REDIS_URL` is set (`RedisRateLimiter`): the same bucket, updated atomically by one script on the Redis
server with the server's clock, so a caller gets one budget however the load balancer spreads its requests.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interviewer.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

log = logging.getLogger(__name__)


class Limiter(Protocol):
    def hit(self, key: str) -> int:
        """Take one token. Returns 0 if allowed, else the seconds to wait (for Retry-After)."""
        ...


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`capacity` requests at once, refilled at `capacity / period` per second, per key."""

    def __init__(
        self,
        capacity: int,
        period_seconds: float = 60.0,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / period_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> int:
        """Take one token. Returns 0 if allowed, else the seconds to wait (for Retry-After)."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = _Bucket(tokens=self.capacity, updated=now)
                self._buckets[key] = bucket
                if len(self._buckets) > self.max_keys:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
                bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0
            return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))


# The same bucket as RateLimiter.hit, on the Redis server: read, refill, take, write back, in one atomic
# script. TIME is the server's clock, shared by every api instance (their own clocks may disagree).
_TOKEN_BUCKET = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = capacity
  updated = now
end
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.max(1, math.ceil((1 - tokens) / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return wait
"""


class RedisRateLimiter:
    """`RateLimiter`'s budget, shared by every api instance that names the same Redis and `name`.

    If Redis cannot be reached the request is allowed (and logged): the limit protects against runaway
    clients, and an outage of that protection must not turn into an outage of interviews."""

    def __init__(self, client: redis.Redis, name: str, capacity: int, period_seconds: float = 60.0) -> None:
        self.capacity = capacity
        self.rate = capacity / period_seconds
        self.prefix = f"interviewer:ratelimit:{name}:"
        self._script = client.register_script(_TOKEN_BUCKET)

    def hit(self, key: str) -> int:
        try:
            wait = self._script(keys=[self.prefix + key], args=[self.capacity, repr(self.rate)])
        except redis.RedisError as error:
            log.warning("rate limit not applied: Redis unavailable (%s)", type(error).__name__)
            return 0
        return int(wait)


def redis_client(url: str) -> redis.Redis:
    """Short timeouts: a request waits at most this long on a slow Redis before it is let through."""
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30)


@dataclass
class Limiters:
    """The api's two budgets per uid: writes (credential issuance, ending) and reads (status polling)."""

    write: Limiter
    read: Limiter
    client: redis.Redis | None = None

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def build_limiters(per_minute: int, read_factor: int, redis_url: str | None) -> Limiters:
    if redis_url is None:
        return Limiters(RateLimiter(per_minute), RateLimiter(per_minute * read_factor))
    client = redis_client(redis_url)
    return Limiters(
        RedisRateLimiter(client, "write", per_minute),
        RedisRateLimiter(client, "read", per_minute * read_factor),
        client,
    )


_BODY_METHODS = {"POST", "PUT", "PATCH"}


class BodySizeLimit:
    """Answer 413 to a body over `max_bytes`, by Content-Length or by counting a chunked stream.

    The body is buffered (it is at most `max_bytes`) and replayed to the app, so the app never starts on a
    request that turns out to be too large.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await self._too_large(send)
                return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._too_large(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps(
            {
                "type": PROBLEM_BASE + "payload-too-large",
                "title": "Request body too large",
                "status": 413,
                "detail": f"the body must be at most {self.max_bytes} bytes",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
