"""Token issuance throughput and latency of the api, end to end, on this machine.

    uv run python bench/token_api.py [--issuances 3000] [--concurrency 32]
    # prints a summary, writes bench/results/token_api.json

What is measured: the full `POST /v1/interviews` path of the real api process (`python -m interviewer.api`,
one process, uvicorn) over loopback HTTP/1.1 keep-alive: parse + validate the body, verify the Firebase ID
token with firebase-admin (issued by the real Auth emulator), rate-limit, upsert the candidate and insert the
interview row in SQLite (WAL, two committed transactions), mint and sign the LiveKit JWT, serialize.

Honest design:
- Every issuance is a distinct, real emulator user (one active interview per candidate is enforced by the
  database, so reusing one user would measure 409s). Users and their ID tokens are created before the clock
  starts; their creation is not part of the figure.
- No verification cache: every request verifies its token. Note what "verify" costs here: emulator tokens are
  unsigned and firebase-admin skips the signature check for them, so production (RS256 against cached Google
  certificates, ~0.1 ms more per request) is a little slower; revocation checking (a user-record lookup per
  request) is off, as it is by default.
- The load generator is a minimal asyncio HTTP/1.1 client (hand-written requests, Content-Length parsing) so
  that on this 2-core machine it leaves as much CPU as possible to the server; it shares the machine with it.
- Every response is checked: status 201 and a JSON body with a participant token; one token is verified with
  livekit-api's TokenVerifier.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from livekit import api as lkapi

from interviewer.auth.emulator import running_auth_emulator
from interviewer.procs import ManagedProcess, free_port

RESULTS = Path(__file__).parent / "results" / "token_api.json"
BENCH_SECRET = "bench-secret-not-used-anywhere-else-0123456789"


async def make_users(identity_toolkit: str, count: int, concurrency: int = 16) -> list[tuple[str, str]]:
    users: list[tuple[str, str]] = []
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(i: int) -> None:
            response = await client.post(
                f"{identity_toolkit}/accounts:signUp?key=bench",
                json={
                    "email": f"bench-{i}@example.com",
                    "password": "bench-password",
                    "returnSecureToken": True,
                },
            )
            response.raise_for_status()
            data = response.json()
            users.append((data["localId"], data["idToken"]))

        queue = list(range(count))

        async def worker() -> None:
            while queue:
                await one(queue.pop())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return users


def _request(token: str, body: bytes) -> bytes:
    return (
        b"POST /v1/interviews HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer "
        + token.encode()
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    ) + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def load(port: int, tokens: list[str], concurrency: int) -> tuple[list[float], list[bytes], float]:
    body = json.dumps({"role": "backend-engineer"}).encode()
    pending = list(reversed(tokens))
    latencies: list[float] = []
    bodies: list[bytes] = []
    failures: list[str] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while pending:
                token = pending.pop()
                started = time.perf_counter()
                writer.write(_request(token, body))
                status, payload = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status != 201:
                    failures.append(f"{status} {payload[:200]!r}")
                bodies.append(payload)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} issuances failed, first: {failures[0]}")
    return latencies, bodies, elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuances", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="bench-token-api-") as tmp,
        running_auth_emulator(Path(tmp) / "fb") as fb,
    ):
        t0 = time.perf_counter()
        users = asyncio.run(make_users(fb.identity_toolkit, args.warmup + args.issuances))
        print(f"created {len(users)} emulator users in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

        port = free_port()
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("INTERVIEWER_", "LIVEKIT_", "FIREBASE_"))
            },
            "INTERVIEWER_MODE": "development",
            "FIREBASE_AUTH_EMULATOR_HOST": fb.host,
            "FIREBASE_PROJECT_ID": fb.project_id,
            "LIVEKIT_API_SECRET": BENCH_SECRET,
            "INTERVIEWER_DATA_DIR": str(Path(tmp) / "data"),
            "API_PORT": str(port),
            "LOG_LEVEL": "INFO",
        }
        api = ManagedProcess(
            "api",
            [sys.executable, "-m", "interviewer.api"],
            env=env,
            cwd=Path(tmp),
            log_path=Path(tmp) / "api.log",
        )
        with api:
            api.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
            tokens = [token for _uid, token in users]
            asyncio.run(load(port, tokens[: args.warmup], args.concurrency))
            load_before = os.getloadavg()[0]
            cpu_before = cpu_seconds(api.pid)
            latencies, bodies, elapsed = asyncio.run(load(port, tokens[args.warmup :], args.concurrency))
            server_cpu = cpu_seconds(api.pid) - cpu_before
            load_after = os.getloadavg()[0]

        sample = json.loads(bodies[-1])
        claims = lkapi.TokenVerifier("devkey", BENCH_SECRET).verify(sample["participant_token"])
        assert claims.room_config is not None and claims.room_config.agents[0].agent_name == "interviewer"

    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "setup": {
            "issuances": args.issuances,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "server": "python -m interviewer.api (1 process, uvicorn), SQLite WAL, Auth emulator tokens",
            "distinct_users": True,
            "verification_cache": False,
            "revocation_check": False,
        },
        "issuances_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 2),
            "p90": round(percentile(latencies, 0.90) * 1000, 2),
            "p99": round(percentile(latencies, 0.99) * 1000, 2),
            "max": round(max(latencies) * 1000, 2),
            "mean": round(statistics.fmean(latencies) * 1000, 2),
        },
        "elapsed_seconds": round(elapsed, 3),
        # The machine is shared (2 cores: server + load generator + anything else running). Server CPU time
        # per issuance says what one dedicated core would sustain, independent of that contention.
        "server_cpu_ms_per_issuance": round(server_cpu / len(latencies) * 1000, 3),
        "issuances_per_server_cpu_second": round(len(latencies) / server_cpu, 1) if server_cpu else None,
        "load_average_1m": {"before": round(load_before, 2), "after": round(load_after, 2)},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    lat = result["latency_ms"]
    print(
        f"token api: {result['issuances_per_second']} issuances/s, p50 {lat['p50']} ms, p99 {lat['p99']} ms "  # type: ignore[index]
        f"({args.issuances} issuances, concurrency {args.concurrency}); server CPU "
        f"{result['server_cpu_ms_per_issuance']} ms/issuance = {result['issuances_per_server_cpu_second']} "
        f"issuances per CPU-second; load average {load_before:.1f} -> {load_after:.1f}\n-> {RESULTS}"
    )


if __name__ == "__main__":
    main()
