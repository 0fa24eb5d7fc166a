"""Reachability probes run on this host, each from inside a network namespace.

One request carries every probe of the host; each runs on a thread of its own (setns(2)
moves only the calling thread), so a batch takes about as long as its slowest probe.
What a probe says:

- icmp: an echo request; reachable on the matching echo reply. A raw socket needs root
  (the agent runs as root); without it an unprivileged ICMP socket, which the namespace's
  net.ipv4.ping_group_range must allow.
- tcp: reachable when the connection is accepted; refused or no answer is unreachable.
- udp: a datagram is sent; reachable only when a datagram comes back. An ICMP port or host
  unreachable, or silence within the timeout, is unreachable: silence cannot tell a
  dropped packet from a service that does not answer, so point udp checks at services
  that reply (DNS, echo ...).

Each attempt waits `timeout` seconds; up to `retries` more attempts follow a failed one.
A probe from a named namespace runs only when the namespace is the topology's (its
marker, netplan/agent/netns_owner.py); otherwise it makes no attempt and says what the
namespace is.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import errno
import itertools
import os
import select
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from netplan.agent import nsutil
from netplan.agent.errors import ProtocolError, explain
from netplan.agent.netns_owner import NotTheContainer, check_inside, missing

MAX_THREADS = 64
ICMP_ECHO_REQUEST = 8
ICMP_ECHO_REPLY = 0
ICMP_UNREACHABLE = 3
UDP_PAYLOAD = b"netplan probe\n"
_IDENTS = itertools.count(os.getpid() << 6)
"""ICMP echo identifiers: one per attempt, so parallel probes in a namespace never mix."""


@dataclass(frozen=True)
class Probe:
    id: int
    netns: str | None
    """The named namespace to probe from; None: the host's own."""
    protocol: str
    """icmp, tcp or udp."""
    address: str
    port: int | None = None
    timeout: float = 1.0
    retries: int = 0

    @classmethod
    def from_json(cls, data: Any) -> Probe:
        try:
            probe = cls(**data)
        except TypeError as error:
            raise ProtocolError(f"malformed probe: {error}") from error
        if probe.protocol not in ("icmp", "tcp", "udp"):
            raise ProtocolError(f"probe protocol {probe.protocol!r} is not icmp, tcp or udp")
        return probe


@dataclass(frozen=True)
class Outcome:
    id: int
    reachable: bool
    detail: str
    """What was seen, e.g. `echo reply`, `connection refused`, `no answer`."""
    attempts: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Answer(Exception):
    """What one attempt saw when it was not a plain timeout."""

    def __init__(self, reachable: bool, detail: str) -> None:
        super().__init__(detail)
        self.reachable, self.detail = reachable, detail


def run_probes(topology: str, probes: list[Probe]) -> list[Outcome]:
    """Every probe of `topology` at once (up to MAX_THREADS), in the order given."""
    if not probes:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(probes))) as pool:
        return list(pool.map(partial(run_probe, topology), probes))


def run_probe(topology: str, probe: Probe) -> Outcome:
    started = time.monotonic()
    attempts, reachable, detail = 0, False, ""
    try:
        with _namespace(topology, probe.netns):
            while attempts <= probe.retries and not reachable:
                attempts += 1
                reachable, detail = _attempt(probe, attempts)
    except NotTheContainer as refusal:
        detail = str(refusal)
    except OSError as error:
        where = f"namespace {probe.netns}" if probe.netns else "the host"
        detail = f"cannot probe from {where}: {explain(error)}"
    return Outcome(probe.id, reachable, detail, attempts, round(time.monotonic() - started, 3))


class _namespace:
    """Enter a named namespace of `topology` on this thread for the block (the host's
    own: nothing); NotTheContainer, with the thread back home, when it is missing or not
    the topology's."""

    def __init__(self, topology: str, name: str | None) -> None:
        self.topology = topology
        self.name = name
        self.fd = -1
        self.home = -1

    def __enter__(self) -> None:
        if self.name is None:
            return
        try:
            self.fd = nsutil.open_named(self.name)
        except FileNotFoundError:
            raise missing(self.topology, self.name) from None
        self.home = nsutil.current()
        try:
            nsutil.setns(self.fd)
            check_inside(self.topology, self.name)
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc: object) -> None:
        if self.name is None:
            return
        try:
            nsutil.setns(self.home)
        finally:
            os.close(self.home)
            os.close(self.fd)


def _attempt(probe: Probe, sequence: int) -> tuple[bool, str]:
    try:
        if probe.protocol == "icmp":
            _ping(probe.address, probe.timeout, sequence)
        elif probe.protocol == "tcp":
            _connect(probe.address, probe.port or 0, probe.timeout)
        else:
            _exchange(probe.address, probe.port or 0, probe.timeout)
    except Answer as answer:
        return answer.reachable, answer.detail
    except TimeoutError:
        return False, "no answer"
    except OSError as error:
        return False, _unreachable(error)
    return False, "no answer"


def _unreachable(error: OSError) -> str:
    words = {
        errno.ENETUNREACH: "network unreachable (no route)",
        errno.EHOSTUNREACH: "host unreachable",
        errno.ETIMEDOUT: "no answer",
        errno.EACCES: "refused by the local firewall",
        errno.EPERM: "refused by the local firewall",
    }
    return words.get(error.errno or 0) or explain(error)


def _connect(address: str, port: int, timeout: float) -> None:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            raise Answer(True, "connected")
    except ConnectionRefusedError:
        raise Answer(False, "connection refused") from None


def _exchange(address: str, port: int, timeout: float) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.connect((address, port))
        sock.send(UDP_PAYLOAD)
        try:
            sock.recv(65535)
        except ConnectionRefusedError:
            raise Answer(False, "port unreachable") from None
        raise Answer(True, "reply")


def _ping(address: str, timeout: float, sequence: int) -> None:
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        raw = True
    except PermissionError:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
        raw = False
    with sock:
        ident = next(_IDENTS) & 0xFFFF
        request = _echo_request(ident, sequence)
        if raw:  # not connected: an unreachable about our echo may come from a router
            sock.sendto(request, (address, 0))
        else:  # connected: the kernel matches replies and reports errors on recv
            sock.connect((address, 0))
            sock.send(request)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            packet, (sender, _) = sock.recvfrom(65535)
            if raw:
                verdict = _read_icmp(packet[(packet[0] & 0x0F) * 4:], ident, sequence,
                                     sender == address)
            else:
                verdict = _read_icmp(packet, None, sequence, True)
            if verdict is not None:
                raise verdict


def _read_icmp(message: bytes, ident: int | None, sequence: int, from_target: bool
               ) -> Answer | None:
    """Our echo's reply (or an unreachable about it), or None for someone else's packet.
    `ident` None: an unprivileged socket, whose identifier the kernel sets and matches."""
    if len(message) < 8:
        return None
    kind, code, _, got_ident, got_sequence = struct.unpack("!BBHHH", message[:8])
    if kind == ICMP_ECHO_REPLY:
        ours = from_target and got_sequence == sequence and ident in (None, got_ident)
        return Answer(True, "echo reply") if ours else None
    if kind == ICMP_UNREACHABLE and len(message) >= 36:
        inner = message[8:]
        inner_echo = inner[(inner[0] & 0x0F) * 4:]
        if len(inner_echo) >= 8:
            _, _, _, echo_ident, _ = struct.unpack("!BBHHH", inner_echo[:8])
            if ident is None or echo_ident == ident:
                return Answer(False, "host unreachable" if code == 1 else
                              f"destination unreachable (code {code})")
    return None


def _echo_request(ident: int, sequence: int) -> bytes:
    header = struct.pack("!BBHHH", ICMP_ECHO_REQUEST, 0, 0, ident, sequence)
    payload = b"netplan-probe".ljust(16, b".")
    checksum = _checksum(header + payload)
    return struct.pack("!BBHHH", ICMP_ECHO_REQUEST, 0, checksum, ident, sequence) + payload


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def handle(topology: str, request: dict[str, Any]) -> dict[str, Any]:
    """The `probe` request: {"probes": [Probe, ...]} → {"outcomes": [Outcome, ...]}."""
    data = request.get("probes")
    if not isinstance(data, list):
        raise ProtocolError("'probe' needs a list 'probes'")
    probes = [Probe.from_json(p) for p in data]
    return {"outcomes": [o.to_json() for o in run_probes(topology, probes)]}
