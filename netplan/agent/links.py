"""Links as the agent reads and writes them: one decoded shape and the few requests on it."""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from netplan.agent import rtnl
from netplan.agent.nlmsg import (
    IFF_RUNNING,
    IFF_UP,
    NLM_F_CREATE,
    NLM_F_EXCL,
    RTM_DELLINK,
    RTM_GETLINK,
    RTM_NEWLINK,
    Attr,
    Message,
    ifinfomsg,
)
from netplan.agent.resources import netns_marker, parse_marker
from netplan.agent.rtnl import Reply, Rtnl

RTEXT_FILTER_SKIP_STATS = 1 << 3
"""IFLA_EXT_MASK bit: leave the counters out of replies (a third of a link's bytes)."""

LOOPBACK = 1
"""The kernel's LOOPBACK_IFINDEX: `lo` has index 1 in every namespace."""

IN6_ADDR_GEN_MODE_NONE = 1
HAS_IPV6 = os.path.isdir("/proc/sys/net/ipv6")

# The attributes read from replies (linux/if_link.h).
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER = 1, 3, 4, 5, 10
IFLA_LINKINFO, IFLA_IFALIAS, IFLA_GROUP, IFLA_LINK_NETNSID, IFLA_INFO_KIND = 18, 20, 27, 37, 1
IFLA_INFO_DATA, IFLA_INFO_SLAVE_DATA = 2, 5
_IFINFOMSG = struct.Struct("=BxHiII")


@dataclass(frozen=True)
class Link:
    """The fields of a link the agent reads, from an RTM_NEWLINK reply."""

    index: int
    name: str
    kind: str
    alias: str | None
    up: bool
    mtu: int
    mac: str
    master: int
    """Index of the bridge it is a port of; 0 for none."""
    peer_index: int
    """IFLA_LINK: a veth's peer, in the namespace `peer_netnsid` names (None: this one)."""
    peer_netnsid: int | None
    group: int = 0
    """Its device group: 0 (`default`) unless someone set one; making_group() while
    netplan is making it."""
    running: bool = False
    """IFF_RUNNING: up and operationally up (carrier), as the bridge needs a port to be
    before it forwards through it."""
    port_data: bytes = field(default=b"", compare=False, repr=False)
    """Its settings as a port of its master (IFLA_INFO_SLAVE_DATA), raw: decoded only for
    the ports netplan owns (bridge_port.read)."""
    kind_data: bytes = field(default=b"", compare=False, repr=False)
    """Its kind's own settings (IFLA_INFO_DATA), raw: decoded only for the bridges netplan
    owns (bridge.observe)."""

    DECODED = frozenset({IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER,
                         IFLA_LINKINFO, IFLA_IFALIAS, IFLA_GROUP, IFLA_LINK_NETNSID})
    """The attributes decode() reads."""

    @classmethod
    def decode(cls, reply: Reply) -> Link:
        _family, _type, index, flags, _change = _IFINFOMSG.unpack_from(reply.body)
        info = reply.attrs.get(IFLA_LINKINFO)
        nested = rtnl.attributes(info, 0, len(info)) if info else {}
        kind = nested.get(IFLA_INFO_KIND, b"")
        return cls(
            index=index,
            name=reply.string(IFLA_IFNAME) or "",
            kind=kind.rstrip(b"\0").decode(),
            alias=reply.string(IFLA_IFALIAS),
            up=bool(flags & IFF_UP),
            mtu=reply.u32(IFLA_MTU) or 0,
            mac=reply.attrs.get(IFLA_ADDRESS, b"").hex(":"),
            master=reply.u32(IFLA_MASTER) or 0,
            peer_index=reply.u32(IFLA_LINK) or 0,
            peer_netnsid=reply.s32(IFLA_LINK_NETNSID),
            group=reply.u32(IFLA_GROUP) or 0,
            running=bool(flags & IFF_RUNNING),
            port_data=nested.get(IFLA_INFO_SLAVE_DATA, b""),
            kind_data=nested.get(IFLA_INFO_DATA, b""),
        )


@functools.lru_cache(maxsize=8)
def making_group(topology: str) -> int:
    """The device group a link of `topology` is created in, and leaves when its marker is
    written (mark()). The kernel takes a group in the request that creates a link, but not
    an alias: a link left between the two by a killed agent is still provably the
    topology's (31 bits of SHA-256 of its marker prefix, never 0: the default group)."""
    digest = hashlib.sha256(netns_marker(topology).encode()).digest()
    return (int.from_bytes(digest[:4], "big") & 0x7FFFFFFF) | 1


def ownership(topology: str, link: Link) -> tuple[str, ...] | None:
    """The link's marker, parsed (`(topology, *details)`, None if netplan did not write
    it); for a link `topology` was making when its agent was killed (no alias, its making
    group), `(topology, "")`: owned, with details still to write. The plan finishes it
    (writes its marker) or deletes it like any other of the topology's links."""
    if not link.alias and link.group == making_group(topology):
        return (topology, "")
    return parse_marker(link.alias)


def marked(alias: str) -> dict[str, Any]:
    """The attributes that write an ownership marker: the alias, and out of the making
    group (for mark(), and for an update that writes a link's marker again)."""
    return {"IFLA_IFALIAS": alias, "IFLA_GROUP": 0}


def info_data(reply: Reply) -> dict[int, bytes]:
    """The kind-specific attributes of a link (IFLA_INFO_DATA), raw, by type. (Its
    settings as a port of its master are Link.port_data.)"""
    info = reply.attrs.get(IFLA_LINKINFO, b"")
    data = rtnl.attributes(info, 0, len(info)).get(IFLA_INFO_DATA, b"")
    return rtnl.attributes(data, 0, len(data))


class KindDump:
    """The links of one kind with their kind-specific attributes, filtered by the kernel.
    It filters by kind only while the kind's module is loaded (for a kind it does not
    know it sends every link), so the dump is sent only when the links already seen
    hold one of that kind, which also means its module is loaded."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.query = rtnl.dump(RTM_GETLINK, message(IFLA_EXT_MASK=RTEXT_FILTER_SKIP_STATS,
                                                    IFLA_LINKINFO=(kind, None)))

    def replies(self, sock: Rtnl, seen: Iterable[Link]) -> list[Reply]:
        """The dump's replies in `sock`'s namespace, whose links are `seen`."""
        if not any(link.kind == self.kind for link in seen):
            return []
        return sock.dump(self.query)


def message(index: int = 0, flags: int = 0, change: int = 0, **attrs: Any) -> Message:
    """An ifinfomsg; keyword arguments are NLA names (IFLA_MTU=1500), None left out."""
    return ifinfomsg(index, flags, change, attrs.items())


_DUMP = rtnl.dump(RTM_GETLINK, message(IFLA_EXT_MASK=RTEXT_FILTER_SKIP_STATS),
                  rtnl.Picker(Link.DECODED))
"""Every link: only what Link.decode reads of them (9 of ~40 attributes; the hottest
dump of an observation, two links in each namespace)."""


def dump(sock: Rtnl) -> list[Link]:
    return [Link.decode(m) for m in sock.dump(_DUMP)]


def get(sock: Rtnl, name: str) -> Link:
    """One link by name; NetlinkError(ENODEV) if there is none."""
    msg = message(IFLA_IFNAME=name, IFLA_EXT_MASK=RTEXT_FILTER_SKIP_STATS)
    return Link.decode(sock.get(rtnl.get(RTM_GETLINK, msg)))


def find(sock: Rtnl, index: int) -> Link | None:
    """One link by index; None if there is none."""
    msg = message(index, IFLA_EXT_MASK=RTEXT_FILTER_SKIP_STATS)
    try:
        return Link.decode(sock.get(rtnl.get(RTM_GETLINK, msg)))
    except rtnl.NetlinkError as error:
        if error.errno != errno.ENODEV:
            raise
        return None


def create(sock: Rtnl, name: str, kind: str, data: list[Attr] | None = None,
           **attrs: Any) -> None:
    """A new link of `kind`; `data` are the kind's IFLA_INFO_DATA attributes."""
    msg = message(IFLA_IFNAME=name, IFLA_LINKINFO=(kind, data), **attrs)
    sock.request(RTM_NEWLINK, msg, NLM_F_CREATE | NLM_F_EXCL)


def change(sock: Rtnl, name: str, up: bool | None = None, **attrs: Any) -> None:
    """Change a link found by name: NLA keywords, and `up` to set or clear IFF_UP."""
    flags = IFF_UP if up else 0
    msg = message(flags=flags, change=0 if up is None else IFF_UP, IFLA_IFNAME=name, **attrs)
    sock.request(RTM_NEWLINK, msg)


def mark(sock: Rtnl, name: str, alias: str) -> None:
    """Write the ownership marker and turn off the IPv6 link-local address (no DAD, no
    MLD flooding the bridge). The kernel ignores IFLA_IFALIAS and rejects IFLA_AF_SPEC at
    creation, and an address generated when the link goes up stays: call this before up."""
    spec = None
    if HAS_IPV6:
        spec = [("AF_INET6", [("IFLA_INET6_ADDR_GEN_MODE", IN6_ADDR_GEN_MODE_NONE)])]
    change(sock, name, IFLA_AF_SPEC=spec, **marked(alias))


def delete(sock: Rtnl, name: str | None = None, index: int = 0) -> None:
    sock.request(RTM_DELLINK, message(index, IFLA_IFNAME=name))


@contextmanager
def made(sock: Rtnl, name: str, kind: str, marker: str, data: list[Attr] | None = None,
         **attrs: Any) -> Iterator[None]:
    """Create an owned link in the socket's namespace, in its topology's making group,
    and write its marker (mark(), which also takes it out of that group), then let the
    caller finish it (bring it up...); rolled back if that fails."""
    topology = (parse_marker(marker) or ("",))[0]
    create(sock, name, kind, data, IFLA_GROUP=making_group(topology), **attrs)
    with rollback(sock, name):
        mark(sock, name, marker)
        yield


@contextmanager
def rollback(sock: Rtnl, name: str) -> Iterator[None]:
    """Delete the link just created if finishing it fails: a half-made link without its
    marker would look foreign to the next observation and block the retry."""
    try:
        yield
    except BaseException:
        with suppress(OSError):  # the original error is the one to report
            delete(sock, name)
        raise
