"""Host ports that something else takes on the root namespace: those other netplan
topologies publish (the DNAT rules of their nftables tables) and those processes listen
on (/proc/net/tcp, tcp6, udp and udp6: read, no socket opened). Docker refuses to publish
either ("port is already allocated", "address already in use"): netplan/plan/port_clashes.py.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Iterator

from netplan.agent import firewall
from netplan.agent.resources import NftTable
from netplan.agent.state import PortInUse

PUBLISHED = re.compile(
    r"output: (?:fib daddr type local|ip daddr (?P<ip>\S+)) (?P<proto>\w+) dport (?P<port>\d+) "
    r"dnat ip to (?P<addr>[\d.]+):(?P<to>\d+)"
)
"""A published port's DNAT rule, as netplan/firewall/rules.py renders it in the output
chain of a topology's inet table (every published port has one there)."""

EVERY_ADDRESS = "0.0.0.0"
PROC_NET = "/proc/thread-self/net"
"""The network namespace of the calling thread (the agent reads it from the root one)."""
LISTENING = {"tcp": "0A", "udp": "07"}
"""The socket state of a listener in /proc/net/{tcp,udp}: TCP_LISTEN; for UDP, TCP_CLOSE
(unconnected: it takes datagrams from anyone; a connected one is ESTABLISHED)."""


def in_use(topology: str, present: firewall.Tables) -> tuple[PortInUse, ...]:
    """The ports other topologies publish (their tables among `present`) and those the
    root namespace's processes listen on, sorted, each once."""
    found = {taken for name, table in firewall.others(topology, present).items()
             for taken in published(name, table)}  # fmt: skip
    for protocol in LISTENING:
        for family in ("", "6"):
            found.update(listening(protocol, _read(f"{PROC_NET}/{protocol}{family}")))
    return tuple(sorted(found))


def published(topology: str, table: NftTable) -> Iterator[PortInUse]:
    """The host ports `topology`'s table publishes."""
    for rule in table.rules:
        match = PUBLISHED.fullmatch(rule)
        if match is not None:
            yield PortInUse(match["proto"], int(match["port"]), match["ip"] or EVERY_ADDRESS,
                            topology)


def listening(protocol: str, text: str) -> Iterator[PortInUse]:
    """The IPv4 ports listened on, from the text of /proc/net/`protocol` (or its IPv6
    twin): a socket on `::` takes the IPv4 port too (unless it is IPV6_V6ONLY, which
    this file does not tell), one on `::ffff:a.b.c.d` takes it on a.b.c.d; one on another
    IPv6 address takes no IPv4 port."""
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != LISTENING[protocol]:
            continue
        local, _, port = fields[1].partition(":")
        address = _ipv4(local)
        if address is not None:
            yield PortInUse(protocol, int(port, 16), address)


def _ipv4(text: str) -> str | None:
    """The IPv4 address of a socket's local address as /proc/net prints it (32-bit words
    in hex, each in the host's byte order); None for an IPv6 one that is no IPv4 one."""
    raw = b"".join(int(text[i:i + 8], 16).to_bytes(4, sys.byteorder)
                   for i in range(0, len(text), 8))  # fmt: skip
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    address = ipaddress.IPv6Address(raw)
    if address.is_unspecified:
        return EVERY_ADDRESS
    return str(address.ipv4_mapped) if address.ipv4_mapped else None


def _read(path: str) -> str:
    """The file's text; empty where the kernel has no such file (IPv6 turned off)."""
    try:
        with open(path) as found:
            return found.read()
    except FileNotFoundError:
        return ""
