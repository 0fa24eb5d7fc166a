"""Linux bridges in the root namespace; ours carry bridge_marker(topology, network)."""

from __future__ import annotations

import sys
from typing import Any

from netplan.agent import links, rtnl
from netplan.agent.links import Link
from netplan.agent.resources import Bridge, bridge_marker
from netplan.agent.session import Session

SETTINGS = {
    "ageing_time": (4, "IFLA_BR_AGEING_TIME"),
    "stp_state": (5, "IFLA_BR_STP_STATE"),
    "vlan_filtering": (7, "IFLA_BR_VLAN_FILTERING"),
    "mcast_snooping": (23, "IFLA_BR_MCAST_SNOOPING"),
}
"""Bridge's settings that change how it forwards, by the attribute that carries each (its
type in linux/if_link.h, as read; its name, as written)."""


def network_of(topology: str, link: Link) -> str | None:
    """The network a root-namespace link serves if it is one of our bridges ("" for one
    still being made when its agent was killed), else None."""
    marker = links.ownership(topology, link)
    if link.kind == "bridge" and marker and len(marker) == 2 and marker[0] == topology:
        return marker[1]
    return None


def observe(topology: str, root_links: list[Link]) -> list[Bridge]:
    return [
        Bridge(link.name, network, mtu=link.mtu, up=link.up, mac=link.mac, group=link.group,
               **settings(link))
        for link in root_links
        if (network := network_of(topology, link)) is not None
    ]


def settings(link: Link) -> dict[str, Any]:
    """The bridge's SETTINGS, read from the link dump's IFLA_INFO_DATA (a few
    bridges: no Picker needed); one the kernel did not send keeps its default. STP on
    reads as on whether the kernel or a user-space daemon runs it."""
    data = rtnl.attributes(link.kind_data, 0, len(link.kind_data))
    found: dict[str, Any] = {}
    for name, (kind, _) in SETTINGS.items():
        if kind in data:
            value = int.from_bytes(data[kind], sys.byteorder)
            found[name] = value if name == "ageing_time" else bool(value)
    return found


def create(session: Session, bridge: Bridge) -> None:
    """A bridge keeps an MTU only if it was changed after creation (the kernel then sets
    BROPT_MTU_SET_BY_USER); otherwise it follows its smallest port. So it is created
    with a neighbouring MTU and then set to the one asked for. Its other settings are
    the kernel's defaults, which Bridge wants."""
    start = None if bridge.mtu is None else bridge.mtu + (1 if bridge.mtu < 65535 else -1)
    marker = bridge_marker(session.topology, bridge.network)
    with links.made(session.root, bridge.name, "bridge", marker, IFLA_MTU=start,
                    IFLA_ADDRESS=bridge.mac):
        links.change(session.root, bridge.name, up=bridge.up or None, IFLA_MTU=bridge.mtu,
                     IFLA_GROUP=bridge.group)


def update(session: Session, bridge: Bridge, fields: tuple[str, ...]) -> None:
    """Its settings are set in place with the rest: turning STP off leaves each port in
    the state STP gave it, which the ports' own updates (planned after) set forwarding."""
    attrs: dict[str, Any] = {}
    if "network" in fields:
        attrs.update(links.marked(bridge_marker(session.topology, bridge.network)))
    if "network" in fields or "group" in fields:  # marked() sets group 0
        attrs["IFLA_GROUP"] = bridge.group
    if "mtu" in fields:
        attrs["IFLA_MTU"] = bridge.mtu
    if "mac" in fields:
        attrs["IFLA_ADDRESS"] = bridge.mac
    data = [(attr, int(getattr(bridge, name)))
            for name, (_, attr) in SETTINGS.items() if name in fields]
    if data:
        attrs["IFLA_LINKINFO"] = ("bridge", data)
    up = bridge.up if "up" in fields else None
    links.change(session.root, bridge.name, up=up, **attrs)


def delete(session: Session, bridge: Bridge) -> None:
    """Its ports are released, not deleted: they belong to their veth resources."""
    links.delete(session.root, bridge.name)
    session.deleted()
