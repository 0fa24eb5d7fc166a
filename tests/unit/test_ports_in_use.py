"""The agent's reading of the ports others take: /proc/net/{tcp,udp}[6] text and another
topology's table in, PortInUse out."""

from __future__ import annotations

import sys
from ipaddress import IPv4Address, IPv4Network

import pytest

from netplan.agent.ports import listening, published
from netplan.agent.resources import NftTable
from netplan.agent.state import PortInUse
from netplan.firewall.ports import PortMapping
from netplan.firewall.rules import Published, Segment, render

pytestmark = pytest.mark.skipif(sys.byteorder != "little",
                                reason="the lines below are as a little-endian kernel prints them")

HEAD = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
REST = "00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0"
ZERO6 = "0" * 32


def line(local: str, remote: str, state: str) -> str:
    return f"   0: {local} {remote} {state} {REST}\n"


@pytest.mark.parametrize(("protocol", "lines", "expected"), [
    ("tcp", [line("0100007F:1F91", "00000000:0000", "0A")], [PortInUse("tcp", 8081, "127.0.0.1")]),
    ("tcp", [line("00000000:0016", "00000000:0000", "0A")], [PortInUse("tcp", 22, "0.0.0.0")]),
    ("tcp", [line("0100007F:1F91", "0100007F:D431", "01"),  # a connection, not a listener
             line("0100007F:D431", "0100007F:1F91", "06")], []),
    ("tcp", [line(f"{ZERO6}:1F90", f"{ZERO6}:0000", "0A")],  # [::] takes the IPv4 port too
     [PortInUse("tcp", 8080, "0.0.0.0")]),
    ("tcp", [line("0000000000000000FFFF00000100007F:1F90", f"{ZERO6}:0000", "0A")],
     [PortInUse("tcp", 8080, "127.0.0.1")]),  # ::ffff:127.0.0.1
    ("tcp", [line("00000000000000000000000001000000:1F90", f"{ZERO6}:0000", "0A")], []),  # ::1
    ("udp", [line("3500007F:0035", "00000000:0000", "07")], [PortInUse("udp", 53, "127.0.0.53")]),
    ("udp", [line("0100007F:A001", "0100007F:0035", "01")], []),  # connected: takes no port
])  # fmt: skip
def test_listeners_are_read_from_proc_net(
    protocol: str, lines: list[str], expected: list[PortInUse]
) -> None:
    assert list(listening(protocol, HEAD + "".join(lines))) == expected


def test_another_topologys_table_gives_its_published_ports() -> None:
    ports = [PortMapping.parse(p) for p in ("8080:80", "127.0.0.1:5353:53/udp", "10.0.0.1:81:81")]
    segment = Segment("br-x", IPv4Network("10.20.0.0/24"))
    table = next(r for r in render("other", [segment], [
        Published(p, IPv4Address("10.20.0.2"), "br-x") for p in ports]) if isinstance(r, NftTable))
    assert sorted(published("other", table)) == [
        PortInUse("tcp", 81, "10.0.0.1", "other"),
        PortInUse("tcp", 8080, "0.0.0.0", "other"),
        PortInUse("udp", 5353, "127.0.0.1", "other"),
    ]
