"""veth pairs: the container end inside a namespace, the host end in the root namespace
(a port of the network's bridge) carrying veth_marker(topology, container, network)."""

from __future__ import annotations

import errno
import functools
import os
from typing import Any

from netplan.agent import bridge_port, links, nsutil, rtnl
from netplan.agent.links import Link
from netplan.agent.nlmsg import RTM_GETNSID, Attr, nsidmsg
from netplan.agent.resources import ROOT, Veth, parse_marker, veth_marker
from netplan.agent.rtnl import Rtnl
from netplan.agent.session import Session

NETNSA_NSID = 1


@functools.lru_cache(maxsize=4)
def _nsid_query(fd: int) -> rtnl.Query:
    return rtnl.get(RTM_GETNSID, nsidmsg([("NETNSA_FD", fd)]))


def _nsid(sock: Rtnl, fd: int) -> int | None:
    """The id under which the socket's namespace knows the namespace `fd` (None if none)."""
    nsid = sock.get(_nsid_query(fd)).s32(NETNSA_NSID)
    return None if nsid is None or nsid < 0 else nsid


def root_nsid(session: Session, netns: str) -> int | None:
    """The id under which namespace `netns` knows the root namespace (links inside it
    name a root-namespace peer or parent by its index and this id)."""
    return _nsid(session.sock(netns), session.home)


def host_ends_seen_from_root(session: Session, netns: str) -> set[int]:
    """Root-namespace indexes of the veths whose other end is in `netns`, found from the
    root namespace (its links as the call's first namespace delete found them): a dump
    inside a namespace waits for the kernel's rtnl lock, which the destruction of the
    namespaces deleted just before holds (~1.6 ms a namespace at N=500)."""
    fd = nsutil.open_named(netns)
    try:
        nsid = _nsid(session.root, fd)
    finally:
        os.close(fd)
    if nsid is None:
        return set()
    if session.host_veths is None:
        session.host_veths = {}
        for link in links.dump(session.root):
            if link.kind == "veth" and link.peer_netnsid is not None:
                session.host_veths.setdefault(link.peer_netnsid, set()).add(link.index)
    return session.host_veths.get(nsid, set())


def host_ends(session: Session, netns: str, ns_links: list[Link]) -> dict[Link, int]:
    """The veths among `ns_links` whose peer is in the root namespace, with its index
    there (a link reports its peer as an index in the namespace its IFLA_LINK_NETNSID
    names)."""
    veths = [link for link in ns_links if link.kind == "veth"]
    if not veths:
        return {}
    root_id = root_nsid(session, netns)
    return {link: link.peer_index for link in veths
            if root_id is not None and link.peer_netnsid == root_id}


def observe(session: Session, netns: str, ns_links: list[Link],
            root_links: dict[int, Link]) -> list[Veth]:
    """Every veth in an owned namespace, its peer resolved to the root namespace."""
    peers = host_ends(session, netns, ns_links)
    return [
        _veth(session.topology, netns, link, root_links.get(peers.get(link, 0)), root_links)
        for link in ns_links
        if link.kind == "veth"
    ]


def _veth(topology: str, netns: str, link: Link, peer: Link | None,
          root_links: dict[int, Link]) -> Veth:
    network = container = bridge = ""
    port = bridge_port.NO_PORT
    if peer is not None:
        marker = parse_marker(peer.alias)
        if marker and len(marker) == 3 and marker[0] == topology:
            network, container = marker[1], marker[2]
        if peer.master in root_links:
            bridge = root_links[peer.master].name
            port = bridge_port.read(peer, root_links[peer.master])
    return Veth(
        netns=netns,
        name=link.name,
        peer=peer.name if peer else "",
        bridge=bridge,
        container=container,
        network=network,
        mac=link.mac,
        mtu=link.mtu,
        peer_mtu=peer.mtu if peer else None,
        up=link.up and peer is not None and peer.up,
        **port.settings,
    )


def create(session: Session, veth: Veth) -> None:
    """The container end is made directly inside its namespace (moving a link between
    namespaces costs ~20 ms); it cannot be brought up before the pair exists."""
    inner: list[Attr] = [
        ("IFLA_IFNAME", veth.name),
        ("IFLA_NET_NS_FD", session.fd(veth.netns)),
        ("IFLA_MTU", veth.mtu),
        ("IFLA_ADDRESS", veth.mac),
    ]
    master = session.index(ROOT, veth.bridge) if veth.bridge else None
    marker = veth_marker(session.topology, veth.container, veth.network)
    host_mtu = veth.mtu if veth.peer_mtu is None else veth.peer_mtu
    with links.made(session.root, veth.peer, "veth", marker, [("VETH_INFO_PEER", inner)],
                    IFLA_MTU=host_mtu, IFLA_MASTER=master):
        if veth.up:
            links.change(session.root, veth.peer, up=True)
            links.change(session.sock(veth.netns), veth.name, up=True)


def update(session: Session, veth: Veth, fields: tuple[str, ...]) -> None:
    host: dict[str, Any] = {}
    inner: dict[str, Any] = {}
    if "bridge" in fields:
        host["IFLA_MASTER"] = session.index(ROOT, veth.bridge) if veth.bridge else 0
    if "container" in fields or "network" in fields:
        host["IFLA_IFALIAS"] = veth_marker(session.topology, veth.container, veth.network)
    if "mtu" in fields:
        inner["IFLA_MTU"] = veth.mtu
    if "peer_mtu" in fields:
        host["IFLA_MTU"] = veth.peer_mtu
    if "mac" in fields:
        inner["IFLA_ADDRESS"] = veth.mac
    up = veth.up if "up" in fields else None
    if host or up is not None:
        links.change(session.root, veth.peer, up=up, **host)
    if inner or up is not None:
        links.change(session.sock(veth.netns), veth.name, up=up, **inner)
    if veth.bridge and bridge_port.changed(fields):
        bridge_port.write(session, veth.peer, veth.bridge, bridge_port.settings(veth, fields))


def delete(session: Session, veth: Veth) -> None:
    """Deleting either end deletes the pair: use the container end, or the host end if
    the namespace or the container end is already gone."""
    try:
        links.delete(session.sock(veth.netns), veth.name)
    except OSError as error:
        if error.errno not in (errno.ENOENT, errno.ENODEV):
            raise
        links.delete(session.root, veth.peer)
    session.deleted()
