"""Linux bridges in the root namespace; ours carry bridge_marker(topology, network)."""

from __future__ import annotations

from typing import Any

from netplan.agent import links
from netplan.agent.links import Link
from netplan.agent.resources import Bridge, bridge_marker
from netplan.agent.session import Session


def network_of(topology: str, link: Link) -> str | None:
    """The network a root-namespace link serves if it is one of our bridges ("" for one
    still being made when its agent was killed), else None."""
    marker = links.ownership(topology, link)
    if link.kind == "bridge" and marker and len(marker) == 2 and marker[0] == topology:
        return marker[1]
    return None


def observe(topology: str, root_links: list[Link]) -> list[Bridge]:
    return [
        Bridge(link.name, network, mtu=link.mtu, up=link.up, mac=link.mac, group=link.group)
        for link in root_links
        if (network := network_of(topology, link)) is not None
    ]


def create(session: Session, bridge: Bridge) -> None:
    """A bridge keeps an MTU only if it was changed after creation (the kernel then sets
    BROPT_MTU_SET_BY_USER); otherwise it follows its smallest port. So it is created
    with a neighbouring MTU and then set to the one asked for."""
    start = None if bridge.mtu is None else bridge.mtu + (1 if bridge.mtu < 65535 else -1)
    marker = bridge_marker(session.topology, bridge.network)
    with links.made(session.root, bridge.name, "bridge", marker, IFLA_MTU=start,
                    IFLA_ADDRESS=bridge.mac):
        links.change(session.root, bridge.name, up=bridge.up or None, IFLA_MTU=bridge.mtu,
                     IFLA_GROUP=bridge.group)


def update(session: Session, bridge: Bridge, fields: tuple[str, ...]) -> None:
    attrs: dict[str, Any] = {}
    if "network" in fields:
        attrs.update(links.marked(bridge_marker(session.topology, bridge.network)))
    if "network" in fields or "group" in fields:  # marked() sets group 0
        attrs["IFLA_GROUP"] = bridge.group
    if "mtu" in fields:
        attrs["IFLA_MTU"] = bridge.mtu
    if "mac" in fields:
        attrs["IFLA_ADDRESS"] = bridge.mac
    up = bridge.up if "up" in fields else None
    links.change(session.root, bridge.name, up=up, **attrs)


def delete(session: Session, bridge: Bridge) -> None:
    """Its ports are released, not deleted: they belong to their veth resources."""
    links.delete(session.root, bridge.name)
    session.deleted()
