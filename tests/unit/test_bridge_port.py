"""A bridge port's settings as the agent reads them from a link's IFLA_INFO_SLAVE_DATA:
the STP state only where the kernel would forward, the flags always, a link on no bridge
as the defaults."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from netplan.agent import bridge_port
from netplan.agent.links import Link
from netplan.agent.nlmsg import Table, nla
from netplan.agent.resources import PORT_DEFAULTS, Veth

BRIDGE = Link(index=2, name="br0", kind="bridge", alias=None, up=True, mtu=1500,
              mac="06:00:00:00:00:01", master=0, peer_index=0, peer_netnsid=None)
PRIORITY = nla(2, (32).to_bytes(2, "little"))
"""An attribute the agent does not read, before those it does (as the kernel sends it)."""


def port_data(state: int = 3, learning: int = 1, flood: int = 1, mcast: int = 1,
              bcast: int = 1, isolated: int = 0, hairpin: int = 0, suppress: int = 0,
              locked: int = 0) -> bytes:
    """Slave data in the kernel's order: the state first, the lock much later."""
    u8 = Table({name: (kind, lambda v: bytes([v])) for name, kind in (
        ("state", 1), ("hairpin", 4), ("learning", 8), ("flood", 9), ("mcast", 27),
        ("bcast", 30), ("suppress", 32), ("isolated", 33), ("locked", 39))})
    return (u8.pack([("state", state)]) + PRIORITY + u8.pack([("hairpin", hairpin)])
            + u8.pack([("learning", learning), ("flood", flood), ("mcast", mcast),
                       ("bcast", bcast)])
            + nla(14, bytes(8)) + u8.pack([("suppress", suppress), ("isolated", isolated)])
            + nla(34, bytes(4)) + u8.pack([("locked", locked)]))


def port(running: bool = True, data: bytes | None = None) -> Link:
    return Link(index=5, name="veth1", kind="veth", alias=None, up=True, mtu=1500,
                mac="02:00:00:00:00:05", master=2, peer_index=4, peer_netnsid=1,
                running=running, port_data=port_data() if data is None else data)


CASES: list[tuple[str, Link, Link | None, dict[str, Any], bool]] = [
    ("forwarding, the kernel's defaults", port(), BRIDGE, {}, True),
    ("disabled by hand", port(data=port_data(state=0)), BRIDGE,
     {"port_state": "disabled"}, True),
    ("listening", port(data=port_data(state=1)), BRIDGE, {"port_state": "listening"}, True),
    ("learning (the STP state)", port(data=port_data(state=2)), BRIDGE,
     {"port_state": "learning"}, True),
    ("blocking", port(data=port_data(state=4)), BRIDGE, {"port_state": "blocking"}, True),
    ("disabled by the kernel: the port is not running", port(False, port_data(state=0)),
     BRIDGE, {}, True),
    ("disabled by the kernel: its bridge is down", port(data=port_data(state=0)),
     replace(BRIDGE, up=False), {}, True),
    ("isolated, no unicast, multicast or broadcast flooding, not learning",
     port(data=port_data(isolated=1, flood=0, mcast=0, bcast=0, learning=0)), BRIDGE,
     {"port_isolated": True, "port_flood": False, "port_mcast_flood": False,
      "port_bcast_flood": False, "port_learning": False}, False),
    ("locked, its neighbour solicitations suppressed, in hairpin mode",
     port(data=port_data(locked=1, suppress=1, hairpin=1)), BRIDGE,
     {"port_locked": True, "port_neigh_suppress": True, "port_hairpin": True}, True),
    ("a kernel that sends no lock (older than 6.0): the default",
     port(data=port_data()[:-8]), BRIDGE, {}, True),
    ("on no bridge", port(data=b""), None, {}, False),
    ("a port of something else than a bridge", port(data=port_data(state=0)),
     replace(BRIDGE, kind="bond"), {}, False),
]


@pytest.mark.parametrize(("link", "bridge", "differing", "learning"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_read(link: Link, bridge: Link | None, differing: dict[str, Any],
              learning: bool) -> None:
    found = bridge_port.read(link, bridge)
    veth = Veth("web", "eth0", "veth1", "br0", "web", "front", **found.settings)
    settings = {name: getattr(veth, name) for name in PORT_DEFAULTS}
    assert settings == {**PORT_DEFAULTS, **differing}
    assert found.learning is learning


def test_settings_write_only_the_fields_changed() -> None:
    veth = Veth("web", "eth0", "veth1", "br0", "web", "front")
    assert bridge_port.settings(veth, ("mtu",)) == []
    assert bridge_port.settings(veth, ("port_bcast_flood", "port_state")) == [
        ("IFLA_BRPORT_BCAST_FLOOD", 1), ("IFLA_BRPORT_STATE", 3)]


