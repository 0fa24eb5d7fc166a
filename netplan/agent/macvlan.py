"""macvlan interfaces of a root-namespace parent, inside a container's namespace: ours
because the namespace is; each carries veth_marker(topology, container, network) to say
which network it serves."""

from __future__ import annotations

import struct
from typing import Any

from netplan.agent import links, veth
from netplan.agent.links import Link
from netplan.agent.resources import ROOT, Macvlan, parse_marker, veth_marker
from netplan.agent.session import Session

IFLA_MACVLAN_MODE = 1
MODES = {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8}
"""linux/if_link.h's MACVLAN_MODE_* (a `source` macvlan is none of ours)."""
_NAMES = {number: name for name, number in MODES.items()}
_U32 = struct.Struct("=I")

_DUMP = links.KindDump("macvlan")
"""Every macvlan of a namespace, with its mode."""


def observe(session: Session, netns: str, ns_links: list[Link],
            root_links: dict[int, Link]) -> list[Macvlan]:
    """Every macvlan in an owned namespace, its parent resolved in the root namespace."""
    replies = _DUMP.replies(session.sock(netns), ns_links)
    if not replies:
        return []
    root_id = veth.root_nsid(session, netns)
    found = []
    for reply in replies:
        link = Link.decode(reply)
        data = links.info_data(reply)
        mode = _U32.unpack(data[IFLA_MACVLAN_MODE])[0] if IFLA_MACVLAN_MODE in data else 0
        in_root = root_id is not None and link.peer_netnsid == root_id
        lower = root_links.get(link.peer_index) if in_root else None
        found.append(_macvlan(session.topology, netns, link, _NAMES.get(mode, str(mode)), lower))
    return found


def _macvlan(topology: str, netns: str, link: Link, mode: str, lower: Link | None) -> Macvlan:
    marker = parse_marker(link.alias)
    network = container = ""
    if marker and len(marker) == 3 and marker[0] == topology:
        network, container = marker[1], marker[2]
    return Macvlan(
        netns=netns,
        name=link.name,
        lower=lower.name if lower else "",
        mode=mode,
        container=container,
        network=network,
        mac=link.mac,
        mtu=link.mtu,
        up=link.up,
    )


def create(session: Session, macvlan: Macvlan) -> None:
    """Made in the root namespace, where its parent is, straight into the container's
    namespace (IFLA_NET_NS_FD), with its MAC and MTU; marked, then brought up there."""
    links.create(
        session.root,
        macvlan.name,
        "macvlan",
        [("IFLA_MACVLAN_MODE", MODES[macvlan.mode])],
        IFLA_LINK=session.index(ROOT, macvlan.lower),
        IFLA_NET_NS_FD=session.fd(macvlan.netns),
        IFLA_ADDRESS=macvlan.mac,
        IFLA_MTU=macvlan.mtu,
    )
    sock = session.sock(macvlan.netns)
    with links.rollback(sock, macvlan.name):
        links.mark(sock, macvlan.name,
                   veth_marker(session.topology, macvlan.container, macvlan.network))
        if macvlan.up:
            links.change(sock, macvlan.name, up=True)


def update(session: Session, macvlan: Macvlan, fields: tuple[str, ...]) -> None:
    attrs: dict[str, Any] = {}
    if "container" in fields or "network" in fields:
        attrs["IFLA_IFALIAS"] = veth_marker(session.topology, macvlan.container, macvlan.network)
    if "mac" in fields:
        attrs["IFLA_ADDRESS"] = macvlan.mac
    if "mtu" in fields:
        attrs["IFLA_MTU"] = macvlan.mtu
    up = macvlan.up if "up" in fields else None
    links.change(session.sock(macvlan.netns), macvlan.name, up=up, **attrs)


def delete(session: Session, macvlan: Macvlan) -> None:
    links.delete(session.sock(macvlan.netns), macvlan.name)
    session.deleted()
