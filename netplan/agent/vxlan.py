"""VXLAN devices in the root namespace: each is this host's tunnel end (VTEP) of one
overlay and a port of the overlay's bridge, which learns nothing through it (every
remote container's MAC is a static entry of the bridge: bridge_fdb.py); ours carry
bridge_marker(topology, network), the marker of the network they serve."""

from __future__ import annotations

import socket
import struct
from typing import Any

from netplan.agent import bridge_port, links
from netplan.agent.links import Link
from netplan.agent.nlmsg import Attr
from netplan.agent.resources import ROOT, Vxlan, bridge_marker
from netplan.agent.rtnl import Reply
from netplan.agent.session import Session
from netplan.agent.state import VniInUse

# linux/if_link.h
IFLA_VXLAN_ID, IFLA_VXLAN_LINK, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LEARNING = 1, 3, 4, 7
IFLA_VXLAN_PROXY, IFLA_VXLAN_PORT = 11, 15
_BE16 = struct.Struct("!H")
_U32 = struct.Struct("=I")

_DUMP = links.KindDump("vxlan")
"""Every VXLAN device, with its settings."""


def observe(session: Session,
            root_links: dict[int, Link]) -> tuple[list[Vxlan], dict[str, VniInUse]]:
    """The VXLAN devices that carry this topology's marker, with their settings; and by
    name, the VNI and port every other one takes."""
    found: list[Vxlan] = []
    others: dict[str, VniInUse] = {}
    for reply in _DUMP.replies(session.root, root_links.values()):
        link = Link.decode(reply)
        if link.kind != "vxlan":
            continue
        marker = links.ownership(session.topology, link)
        if marker and len(marker) == 2 and marker[0] == session.topology:
            found.append(_vxlan(link, marker[1], reply, root_links))
        else:
            data = links.info_data(reply)
            others[link.name] = VniInUse(_u32(data, IFLA_VXLAN_ID), _port(data))
    return found, others


def _u32(data: dict[int, bytes], kind: int) -> int:
    return int(_U32.unpack_from(data[kind])[0]) if kind in data else 0


def _port(data: dict[int, bytes]) -> int:
    return int(_BE16.unpack(data[IFLA_VXLAN_PORT])[0]) if IFLA_VXLAN_PORT in data else 0


def _vxlan(link: Link, network: str, reply: Reply, root_links: dict[int, Link]) -> Vxlan:
    data = links.info_data(reply)
    port = bridge_port.read(link, root_links.get(link.master))
    local = data.get(IFLA_VXLAN_LOCAL, b"")
    underlay = root_links.get(_u32(data, IFLA_VXLAN_LINK))
    bridge = root_links.get(link.master)
    return Vxlan(
        name=link.name,
        network=network,
        vni=_u32(data, IFLA_VXLAN_ID),
        local=socket.inet_ntoa(local) if len(local) == 4 else "",
        dev=underlay.name if underlay else "",
        bridge=bridge.name if bridge else "",
        port=_port(data),
        mtu=link.mtu,
        learning=data.get(IFLA_VXLAN_LEARNING, b"\0") != b"\0",
        proxy=data.get(IFLA_VXLAN_PROXY, b"\0") != b"\0",
        up=link.up,
        **(port.settings | {"port_learning": port.learning}),
    )


def create(session: Session, vxlan: Vxlan) -> None:
    """Made a port of its bridge at once, its port settings and the marker (and no IPv6
    link-local address) before it goes up, as for every link of ours."""
    data: list[Attr] = [
        ("IFLA_VXLAN_ID", vxlan.vni),
        ("IFLA_VXLAN_LOCAL", vxlan.local),
        ("IFLA_VXLAN_LINK", session.index(ROOT, vxlan.dev)),
        ("IFLA_VXLAN_PORT", vxlan.port),
        ("IFLA_VXLAN_LEARNING", int(vxlan.learning)),
        ("IFLA_VXLAN_PROXY", int(vxlan.proxy)),
    ]
    master = session.index(ROOT, vxlan.bridge) if vxlan.bridge else None
    marker = bridge_marker(session.topology, vxlan.network)
    with links.made(session.root, vxlan.name, "vxlan", marker, data, IFLA_MTU=vxlan.mtu,
                    IFLA_MASTER=master):
        if master is not None:
            _set_port(session, vxlan)
        if vxlan.up:
            links.change(session.root, vxlan.name, up=True)


def update(session: Session, vxlan: Vxlan, fields: tuple[str, ...]) -> None:
    """A port that joins a bridge learns (the kernel's default) until told otherwise:
    its port settings follow a change of bridge. The device's own settings that change
    are sent alone: the kernel refuses IFLA_VXLAN_PORT in a change even at its value."""
    attrs: dict[str, Any] = {}
    settings = _settings(session, vxlan, fields)
    if settings:
        attrs["IFLA_LINKINFO"] = ("vxlan", settings)
    if "network" in fields:
        attrs.update(links.marked(bridge_marker(session.topology, vxlan.network)))
    if "bridge" in fields:
        attrs["IFLA_MASTER"] = session.index(ROOT, vxlan.bridge) if vxlan.bridge else 0
    if "mtu" in fields:
        attrs["IFLA_MTU"] = vxlan.mtu
    up = vxlan.up if "up" in fields else None
    if attrs or up is not None:
        links.change(session.root, vxlan.name, up=up, **attrs)
    if vxlan.bridge and ("bridge" in fields or bridge_port.changed(fields)):
        _set_port(session, vxlan, fields)


def _settings(session: Session, vxlan: Vxlan, fields: tuple[str, ...]) -> list[Attr]:
    """The IFLA_INFO_DATA of the fields vxlan_changelink takes (Vxlan.MUTABLE)."""
    settings: list[Attr] = []
    if "local" in fields:
        settings.append(("IFLA_VXLAN_LOCAL", vxlan.local))
    if "dev" in fields:
        settings.append(("IFLA_VXLAN_LINK", session.index(ROOT, vxlan.dev)))
    if "learning" in fields:
        settings.append(("IFLA_VXLAN_LEARNING", int(vxlan.learning)))
    return settings


def _set_port(session: Session, vxlan: Vxlan, fields: tuple[str, ...] = ()) -> None:
    """Its learning as a port of its bridge, and the other port settings among `fields`.
    Turning learning off forgets the MACs the bridge learned through it (not its static
    entries), which would otherwise stay until they age out."""
    flush = "port_learning" in fields and not vxlan.port_learning
    settings: list[Attr] = [*bridge_port.settings(vxlan, ("port_learning", *fields)),
                            ("IFLA_BRPORT_FLUSH", True if flush else None)]
    bridge_port.write(session, vxlan.name, vxlan.bridge, settings)


def delete(session: Session, vxlan: Vxlan) -> None:
    """Its FDB and neighbour entries go with it."""
    links.delete(session.root, vxlan.name)
    session.deleted()
