"""802.1Q VLAN links in the root namespace that netplan made as macvlan parents (`eth1.10`
when the topology names it and it does not exist); ours carry bridge_marker(topology,
network). A VLAN link without our marker is someone else's and is never changed."""

from __future__ import annotations

import struct
from typing import Any

from netplan.agent import links
from netplan.agent.links import Link
from netplan.agent.resources import ROOT, Vlan, bridge_marker
from netplan.agent.session import Session

IFLA_VLAN_ID = 1
_U16 = struct.Struct("=H")

_DUMP = links.KindDump("vlan")
"""Every VLAN link, with its id."""


def observe(session: Session, root_links: dict[int, Link]) -> list[Vlan]:
    """The VLAN links that carry this topology's marker."""
    found = []
    for reply in _DUMP.replies(session.root, root_links.values()):
        link = Link.decode(reply)
        marker = links.ownership(session.topology, link)
        if link.kind != "vlan" or not marker or len(marker) != 2:
            continue
        if marker[0] != session.topology:
            continue
        data = links.info_data(reply)
        lower = root_links.get(link.peer_index)
        found.append(Vlan(
            name=link.name,
            network=marker[1],
            dev=lower.name if lower else "",
            vlan_id=_U16.unpack(data[IFLA_VLAN_ID])[0] if IFLA_VLAN_ID in data else 0,
            mtu=link.mtu,
            up=link.up,
        ))
    return found


def create(session: Session, vlan: Vlan) -> None:
    """Marked (and without an IPv6 link-local address) before it goes up."""
    marker = bridge_marker(session.topology, vlan.network)
    with links.made(session.root, vlan.name, "vlan", marker, [("IFLA_VLAN_ID", vlan.vlan_id)],
                    IFLA_LINK=session.index(ROOT, vlan.dev), IFLA_MTU=vlan.mtu):
        if vlan.up:
            links.change(session.root, vlan.name, up=True)


def update(session: Session, vlan: Vlan, fields: tuple[str, ...]) -> None:
    attrs: dict[str, Any] = {}
    if "network" in fields:
        attrs.update(links.marked(bridge_marker(session.topology, vlan.network)))
    if "mtu" in fields:
        attrs["IFLA_MTU"] = vlan.mtu
    up = vlan.up if "up" in fields else None
    links.change(session.root, vlan.name, up=up, **attrs)


def delete(session: Session, vlan: Vlan) -> None:
    """The kernel deletes the macvlans on it too (none are left by then)."""
    links.delete(session.root, vlan.name)
    session.deleted()
