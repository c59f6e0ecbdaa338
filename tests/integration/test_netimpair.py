"""The impaired network for candidates (interviewer.bench.netimpair), measured from inside its namespace.

A UDP echo server and a TCP server run here, on the root side's address; a client process runs inside the
candidate namespace (`ip netns exec`), so every packet crosses the userspace bridge twice. With 3% loss and
80±30 ms each way configured, the round trips must show it: about 6% lost, round-trip times between 100 and
220 ms averaging 160; a 256 KB TCP transfer (what signalling rides on) must still arrive intact. Afterwards
no namespace or link of ours is left, and a leftover of a dead owner is swept.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from interviewer.bench.netimpair import (
    PREFIX,
    ImpairedNet,
    Impairment,
    impaired_network,
    leftovers,
    links,
    namespaces,
    sweep,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]

PACKETS = 600
SPACING_S = 0.004
PAYLOAD = os.urandom(256 * 1024)

CLIENT = r"""
import json, os, select, socket, struct, sys, time, hashlib
host = sys.argv[1]
udp_port, tcp_port, count = (int(a) for a in sys.argv[2:5])
spacing = float(sys.argv[5])
tcp = socket.create_connection((host, tcp_port), timeout=20)
data = b""
while chunk := tcp.recv(65536):
    data += chunk
tcp.close()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.connect((host, udp_port))
udp.setblocking(False)
rtts = {}
sent = {}
next_send = time.monotonic()
i = 0
deadline = None
while True:
    now = time.monotonic()
    if i < count and now >= next_send:
        sent[i] = now
        udp.send(struct.pack("!I", i) + b"x" * 156)
        i += 1
        next_send += spacing
        if i == count:
            deadline = now + 1.5
    if deadline is not None and now > deadline:
        break
    wait = max(0.0, (next_send if i < count else deadline) - now)
    ready, _, _ = select.select([udp], [], [], min(wait, 0.05))
    while ready:
        try:
            packet = udp.recv(2048)
        except BlockingIOError:
            break
        seq = struct.unpack("!I", packet[:4])[0]
        rtts.setdefault(seq, (time.monotonic() - sent[seq]) * 1000)
print(json.dumps({"tcp_sha": hashlib.sha256(data).hexdigest(), "tcp_len": len(data), "sent": len(sent),
                  "rtts": list(rtts.values())}))
"""


def _udp_echo(sock: socket.socket, stop: threading.Event) -> None:
    sock.settimeout(0.1)
    while not stop.is_set():
        try:
            packet, peer = sock.recvfrom(2048)
        except TimeoutError:
            continue
        sock.sendto(packet, peer)


def _tcp_serve(sock: socket.socket) -> None:
    sock.settimeout(30)
    try:
        conn, _ = sock.accept()
    except (TimeoutError, OSError):
        return
    with conn:
        conn.sendall(PAYLOAD)


@pytest.fixture
def net() -> Iterator[ImpairedNet]:
    impairment = Impairment(loss=0.03, delay_ms=80, jitter_ms=30, seed=7)
    with impaired_network(impairment, max_seconds=60, subnet="10.79.0") as live:
        yield live
    assert not leftovers(live.tag), leftovers(live.tag)
    assert not live.stats_path.parent.exists()
    directions = live.bridge_stats()["directions"]
    assert isinstance(directions, dict) and len(directions) == 2, directions


@pytest.mark.timeout(60)
def test_loss_and_delay_are_what_was_configured(net: ImpairedNet) -> None:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((net.root_ip, 0))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind((net.root_ip, 0))
    tcp.listen(1)
    stop = threading.Event()
    threads = [
        threading.Thread(target=_udp_echo, args=(udp, stop), daemon=True),
        threading.Thread(target=_tcp_serve, args=(tcp,), daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        argv = [
            sys.executable, "-c", CLIENT, net.root_ip, str(udp.getsockname()[1]),
            str(tcp.getsockname()[1]), str(PACKETS), str(SPACING_S),
        ]  # fmt: skip
        done = subprocess.run(net.exec_argv(argv), capture_output=True, text=True, timeout=45)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        udp.close()
        tcp.close()
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)

    # TCP through the bridge: every byte, despite the loss (retransmitted).
    assert result["tcp_len"] == len(PAYLOAD)
    assert result["tcp_sha"] == hashlib.sha256(PAYLOAD).hexdigest()

    # UDP round trips: each crosses the bridge twice (3% each way: 5.9% lost, sd about 1% at 600 packets).
    rtts = result["rtts"]
    lost = 1 - len(rtts) / result["sent"]
    assert 0.025 <= lost <= 0.10, lost
    # Each way 50..110 ms: the round trip lies in 100..220 ms plus scheduling slack, mean about 160 ms. The
    # slack is wide on the high side: the bridge and the echo are Python, and `make test` runs another test
    # module on the other core; delay applied twice (a round trip of 200..440 ms) still fails.
    assert min(rtts) >= 99, min(rtts)
    assert max(rtts) <= 400, max(rtts)
    assert 145 <= statistics.mean(rtts) <= 200, statistics.mean(rtts)
    # Jitter is there: uniform ±30 ms each way gives a round-trip sd of about 24 ms.
    assert statistics.pstdev(rtts) >= 15, statistics.pstdev(rtts)


def test_sweep_removes_what_a_dead_owner_left() -> None:
    dead = 4_194_304 + 1  # above Linux's largest pid: no process can own it
    ns, link = f"{PREFIX}{dead}-cand", f"{PREFIX}{dead}r"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(
        ["ip", "link", "add", link, "type", "veth", "peer", "name", f"{PREFIX}{dead}p"], check=True
    )
    try:
        assert ns in namespaces() and link in links()
        removed = sweep()
        assert ns in removed and link in removed, removed
        assert ns not in namespaces()
        assert not [name for name in links() if name.startswith(f"{PREFIX}{dead}")]
    finally:
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
        subprocess.run(["ip", "link", "delete", link], capture_output=True)


def _wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL])
def test_nothing_is_left_after_ctrl_c_or_a_kill(signum: int) -> None:
    """Ctrl-C: the owner removes everything itself. SIGKILL (no handler runs): the bridge dies with its
    parent, the namespaces stay, and the next start's sweep removes them."""
    argv = [
        sys.executable, "-m", "interviewer.bench.netimpair", "shell", "--subnet", "10.79.1",
        "--loss", "0.01", "--max-seconds", "60", "--",
        sys.executable, "-c", "import time; time.sleep(60)",
    ]  # fmt: skip
    owner = subprocess.Popen(argv, start_new_session=True, stderr=subprocess.PIPE)
    tag = f"{PREFIX}{owner.pid}"
    try:

        def bridge_pids() -> list[str]:
            pids = subprocess.run(["ip", "netns", "pids", f"{tag}-mid"], capture_output=True, text=True)
            return pids.stdout.split()

        bridge: list[str] = []

        def bridging() -> bool:
            bridge[:] = bridge_pids()  # kept from the same look that saw it
            return f"{tag}r" in links() and bool(bridge)

        _wait_until(bridging, 20, "the namespace and its bridge")
        os.killpg(owner.pid, signum)
        try:
            owner.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(owner.pid, signal.SIGKILL)
            _out, err = owner.communicate(timeout=5)
            raise AssertionError(
                f"the owner outlived signal {signum} by 20 s; its stderr:\n{err.decode()}"
            ) from None
        if signum == signal.SIGKILL:
            _wait_until(
                lambda: not Path(f"/proc/{bridge[0]}").exists(), 10, "the bridge to die with its parent"
            )
            assert leftovers(tag), "a SIGKILLed owner cannot have cleaned up: the sweep is what is tested"
            removed = sweep()
            assert f"{tag}-cand" in removed and f"{tag}-mid" in removed, removed
        assert not leftovers(tag), leftovers(tag)
    finally:
        if owner.poll() is None:
            os.killpg(owner.pid, signal.SIGKILL)
            owner.wait()
        sweep()
