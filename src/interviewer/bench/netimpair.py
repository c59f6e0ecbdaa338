"""An impaired network for simulated candidates: loss, delay and jitter on every packet, in userspace.

This machine has no `sch_netem` (`tc qdisc ... netem` says "Specified qdisc kind is unknown" and the module
cannot be loaded) and no iptables/nft, so the impairment is done by hand, as close to netem as we can:

    root namespace                     ivb<pid>-mid                          ivb<pid>-cand
    ivb<pid>r 10.77.0.1/24 ==veth== ivb<pid>m1 [bridge] ivb<pid>m2 ==veth== ivb<pid>c 10.77.0.2/24

The middle namespace holds no address: a bridge process (`bridge()` below, run there with `ip netns exec`)
reads every Ethernet frame off each of its two veth ends with an AF_PACKET raw socket and writes it to the
other end after a per-frame delay (uniform in delay ± jitter; frames may overtake each other, as with
netem's jitter), or drops it with probability `loss`. Everything the candidate namespace says, ARP, TCP
signalling and UDP media alike, crosses the bridge in both directions, so both directions are impaired with
the same settings. Offloads (checksum, TSO, GSO, GRO) are switched off on the veths with the ethtool ioctl
(there is no `ethtool` binary): a frame handed on by a raw socket must be a finished, MTU-sized packet.

Bounded and always cleaned up: the bridge exits by itself after `max_seconds`; `impaired_network()` removes
both namespaces and the root-side link in `finally`, and every start first sweeps what an earlier run left
behind (names carry the owner's pid; a leftover is one whose owner is gone). Deleting a namespace takes its
veth ends with it, and deleting one end of a veth pair deletes the other.

Needs root (`ip netns`, raw sockets). Usage:
    python -m interviewer.bench.netimpair sweep
    python -m interviewer.bench.netimpair shell --loss 0.03 --delay-ms 80 --jitter-ms 30 -- CMD...
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import heapq
import json
import os
import random
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from interviewer.bench.signals import interrupt_on_sigterm
from interviewer.procs import ManagedProcess, process_table

PREFIX = "ivb"
SUBNET = "10.77.0"  # root side .1, candidate side .2
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SIOCETHTOOL = 0x8946
# Legacy ethtool "set" commands (linux/ethtool.h): tx checksum, scatter-gather, TSO, GSO, GRO.
ETHTOOL_STXCSUM = 0x17
ETHTOOL_SSG = 0x19
ETHTOOL_STSO = 0x1F
ETHTOOL_SGSO = 0x24
ETHTOOL_SGRO = 0x2C
OFFLOADS = (ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO, ETHTOOL_SSG, ETHTOOL_STXCSUM)
BRIDGE_READY = "bridge ready"
DEFAULT_MAX_SECONDS = 3 * 3600.0


class NetImpairError(RuntimeError):
    pass


@dataclass(frozen=True)
class Impairment:
    """Applied to each frame, in each direction: dropped with `loss`, else held delay ± jitter ms."""

    loss: float = 0.0
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.loss < 1.0:
            raise ValueError("loss must be in [0, 1)")
        if self.delay_ms < 0 or self.jitter_ms < 0 or self.jitter_ms > self.delay_ms:
            raise ValueError("need 0 <= jitter <= delay")

    def label(self) -> str:
        return f"loss {self.loss:.1%}, delay {self.delay_ms:.0f}±{self.jitter_ms:.0f} ms"


@dataclass
class ImpairedNet:
    """A live impaired network: run candidates with `exec_argv`, dial the root side at `root_ip`."""

    tag: str
    impairment: Impairment
    root_if: str
    root_ip: str
    cand_ip: str
    cand_ns: str
    mid_ns: str
    stats_path: Path
    bridge: ManagedProcess | None = None
    final_stats: dict[str, object] | None = None  # kept when the scratch directory is removed

    def exec_argv(self, argv: Sequence[str]) -> list[str]:
        """`argv` run inside the candidate namespace."""
        return ["ip", "netns", "exec", self.cand_ns, *argv]

    def bridge_stats(self) -> dict[str, object]:
        """What the bridge counted (written when it stops; empty before)."""
        if self.final_stats is not None:
            return self.final_stats
        try:
            loaded: dict[str, object] = json.loads(self.stats_path.read_text())
        except (OSError, ValueError):
            return {}
        return loaded


# -- ip(8) --------------------------------------------------------------------------------------------------


def _ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and done.returncode != 0:
        raise NetImpairError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def namespaces() -> list[str]:
    return [line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()]


def links() -> list[str]:
    names = []
    for line in _ip("-o", "link", "show").splitlines():
        match = re.match(r"\d+:\s+([^:@\s]+)", line)
        if match:
            names.append(match.group(1))
    return names


def ours(names: Sequence[str]) -> list[str]:
    return [name for name in names if re.match(rf"^{PREFIX}\d+", name)]


def _owner(name: str) -> int:
    match = re.match(rf"^{PREFIX}(\d+)", name)
    assert match is not None
    return int(match.group(1))


def _kill_namespace_processes(ns: str) -> None:
    """Processes still inside one of our namespaces: the bridge or candidates our tool started there."""
    pids = [int(p) for p in _ip("netns", "pids", ns, check=False).split() if p.isdigit()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        table = process_table()
        if not any(pid in table and table[pid].alive for pid in pids):
            return
        time.sleep(0.02)


def remove(tag: str | None = None, *, only_dead_owners: bool = True) -> list[str]:
    """Delete our namespaces and root-side links: those of `tag`, or every leftover whose owner died."""
    removed: list[str] = []
    alive = {pid for pid, info in process_table().items() if info.alive}

    def wanted(name: str) -> bool:
        if tag is not None:
            return name.startswith(tag)
        return not only_dead_owners or _owner(name) not in alive

    for ns in ours(namespaces()):
        if wanted(ns):
            _kill_namespace_processes(ns)
            _ip("netns", "delete", ns, check=False)
            removed.append(ns)
    for link in ours(links()):
        if wanted(link):
            _ip("link", "delete", link, check=False)
            removed.append(link)
    return removed


def sweep() -> list[str]:
    """Remove what earlier runs left behind (their owner process is gone)."""
    return remove(None, only_dead_owners=True)


def leftovers(tag: str) -> list[str]:
    return [name for name in [*namespaces(), *links()] if name.startswith(tag)]


# -- offloads -----------------------------------------------------------------------------------------------


def disable_offloads(ifname: str) -> None:
    """`ethtool -K IF tso off gso off gro off sg off tx off` through the ioctl (no ethtool binary here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for command in OFFLOADS:
            value = ctypes.create_string_buffer(struct.pack("II", command, 0))
            ifreq = struct.pack("16sP", ifname.encode(), ctypes.addressof(value))
            try:
                fcntl.ioctl(sock.fileno(), SIOCETHTOOL, ifreq)
            except OSError as error:
                raise NetImpairError(f"ethtool ioctl {command:#x} on {ifname}: {error}") from error


# -- setup ---------------------------------------------------------------------------------------------------


@contextmanager
def impaired_network(
    impairment: Impairment,
    *,
    subnet: str = SUBNET,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    workdir: Path | None = None,
) -> Iterator[ImpairedNet]:
    """Create the two namespaces, the veths and the bridge; yield; always remove all of it."""
    if os.geteuid() != 0:
        raise NetImpairError("an impaired network needs root (ip netns, raw sockets)")
    sweep()
    tag = f"{PREFIX}{os.getpid()}"
    if leftovers(tag):  # a second network from the same process: not supported
        raise NetImpairError(f"{tag} already exists: {leftovers(tag)}")
    in_use = _ip("-o", "-4", "addr", "show")
    if re.search(rf"inet {re.escape(subnet)}\.\d+/", in_use):  # another live run (or anything else) has it
        raise NetImpairError(f"{subnet}.0/24 is already in use here: pick another --subnet")
    scratch = Path(tempfile.mkdtemp(prefix=f"{tag}-", dir=workdir))
    net = ImpairedNet(
        tag=tag,
        impairment=impairment,
        root_if=f"{tag}r",
        root_ip=f"{subnet}.1",
        cand_ip=f"{subnet}.2",
        cand_ns=f"{tag}-cand",
        mid_ns=f"{tag}-mid",
        stats_path=scratch / "bridge-stats.json",
    )
    m1, m2, cand_if = f"{tag}m1", f"{tag}m2", f"{tag}c"
    try:
        _ip("netns", "add", net.mid_ns)
        _ip("netns", "add", net.cand_ns)
        _ip("link", "add", net.root_if, "type", "veth", "peer", "name", m1)
        _ip("link", "add", m2, "type", "veth", "peer", "name", cand_if)
        for ifname in (net.root_if, m1, m2, cand_if):
            disable_offloads(ifname)
        _ip("link", "set", m1, "netns", net.mid_ns)
        _ip("link", "set", m2, "netns", net.mid_ns)
        _ip("link", "set", cand_if, "netns", net.cand_ns)
        _ip("addr", "add", f"{net.root_ip}/24", "dev", net.root_if)
        _ip("link", "set", net.root_if, "up")
        for ifname in (m1, m2, "lo"):
            _ip("-n", net.mid_ns, "link", "set", ifname, "up")
        _ip("-n", net.cand_ns, "addr", "add", f"{net.cand_ip}/24", "dev", cand_if)
        _ip("-n", net.cand_ns, "link", "set", cand_if, "up")
        _ip("-n", net.cand_ns, "link", "set", "lo", "up")
        net.bridge = _start_bridge(net, m1, m2, max_seconds, scratch)
        yield net
    finally:
        if net.bridge is not None:
            net.bridge.stop(timeout=5, signum=signal.SIGTERM)
        remove(tag)
        left = leftovers(tag)
        net.final_stats = net.bridge_stats()
        shutil.rmtree(scratch, ignore_errors=True)
        if left:
            raise NetImpairError(f"could not remove {left}")


def _start_bridge(net: ImpairedNet, m1: str, m2: str, max_seconds: float, scratch: Path) -> ManagedProcess:
    imp = net.impairment
    argv = [
        "ip", "netns", "exec", net.mid_ns,
        sys.executable, "-m", "interviewer.bench.netimpair", "bridge",
        "--a", m1, "--b", m2,
        "--loss", str(imp.loss), "--delay-ms", str(imp.delay_ms), "--jitter-ms", str(imp.jitter_ms),
        "--max-seconds", str(max_seconds), "--stats", str(net.stats_path),
    ]  # fmt: skip
    if imp.seed is not None:
        argv += ["--seed", str(imp.seed)]
    bridge = ManagedProcess("netimpair-bridge", argv, log_path=scratch / "bridge.log")
    bridge.parent_death_signal = signal.SIGTERM
    bridge.start()
    try:
        bridge.wait_until(lambda: BRIDGE_READY in bridge.log_tail(5), 20, "bridging")
    except BaseException:
        bridge.stop(timeout=2)
        raise
    return bridge


# -- the bridge (runs inside the middle namespace) -------------------------------------------------------


@dataclass
class Direction:
    frames: int = 0
    dropped: int = 0
    sent: int = 0
    send_errors: int = 0
    delays_ms: list[float] = field(default_factory=list)


def _raw_socket(ifname: str) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    sock.bind((ifname, 0))
    sock.setblocking(False)
    return sock


def bridge(a: str, b: str, impairment: Impairment, max_seconds: float, stats_path: Path | None) -> int:
    """Forward frames a <-> b with loss, delay and jitter until SIGTERM or `max_seconds`."""
    for ifname in (a, b):
        disable_offloads(ifname)
    rng = random.Random(impairment.seed)
    socks = {a: _raw_socket(a), b: _raw_socket(b)}
    other = {a: socks[b], b: socks[a]}
    directions = {a: Direction(), b: Direction()}
    stop = False

    def on_term(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    selector = selectors.DefaultSelector()
    for name, sock in socks.items():
        selector.register(sock, selectors.EVENT_READ, name)
    pending: list[tuple[float, int, str, bytes]] = []
    seq = 0
    end = time.monotonic() + max_seconds
    low, high = impairment.delay_ms - impairment.jitter_ms, impairment.delay_ms + impairment.jitter_ms
    print(BRIDGE_READY, flush=True)
    while not stop and time.monotonic() < end:
        now = time.monotonic()
        timeout = 0.05 if not pending else max(0.0, min(0.05, pending[0][0] - now))
        for key, _mask in selector.select(timeout):
            name = key.data
            sock = socks[name]
            for _ in range(256):
                try:
                    frame, address = sock.recvfrom(65536)
                except BlockingIOError:
                    break
                if address[2] == PACKET_OUTGOING:  # our own write to this end
                    continue
                stats = directions[name]
                stats.frames += 1
                if impairment.loss and rng.random() < impairment.loss:
                    stats.dropped += 1
                    continue
                delay = rng.uniform(low, high) / 1000 if high > 0 else 0.0
                seq += 1
                heapq.heappush(pending, (time.monotonic() + delay, seq, name, frame))
                if len(stats.delays_ms) < 100_000:
                    stats.delays_ms.append(delay * 1000)
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _due, _seq, name, frame = heapq.heappop(pending)
            try:
                other[name].send(frame)
                directions[name].sent += 1
            except OSError:
                directions[name].send_errors += 1
    if stats_path is not None:
        summary = {
            name: {k: v for k, v in asdict(d).items() if k != "delays_ms"}
            | {"mean_delay_ms": sum(d.delays_ms) / len(d.delays_ms) if d.delays_ms else None}
            for name, d in directions.items()
        }
        stats_path.write_text(json.dumps({"impairment": asdict(impairment), "directions": summary}))
    return 0


# -- command line -------------------------------------------------------------------------------------------


def _impairment_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--loss", type=float, default=0.0, help="drop probability per frame, each way")
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--max-seconds", type=float, default=DEFAULT_MAX_SECONDS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m interviewer.bench.netimpair", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sweep", help="remove leftovers of earlier runs")
    run = sub.add_parser("bridge", help="(internal) the frame forwarder inside the middle namespace")
    run.add_argument("--a", required=True)
    run.add_argument("--b", required=True)
    run.add_argument("--stats", type=Path)
    _impairment_args(run)
    shell = sub.add_parser("shell", help="run a command inside an impaired candidate namespace")
    _impairment_args(shell)
    shell.add_argument("--subnet", default=SUBNET, help="a.b.c: root side .1, candidates .2")
    shell.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "sweep":
        for name in sweep():
            print(f"removed {name}")
        return 0
    impairment = Impairment(args.loss, args.delay_ms, args.jitter_ms, args.seed)
    if args.command == "bridge":
        return bridge(args.a, args.b, impairment, args.max_seconds, args.stats)
    cmd = [c for c in args.cmd if c != "--"] or ["bash"]
    interrupt_on_sigterm()
    with impaired_network(impairment, max_seconds=args.max_seconds, subnet=args.subnet) as net:
        print(f"{impairment.label()}: root side {net.root_ip}, candidates at {net.cand_ip}", file=sys.stderr)
        code = subprocess.call(net.exec_argv(cmd), timeout=args.max_seconds)
    return code


if __name__ == "__main__":
    sys.exit(main())
