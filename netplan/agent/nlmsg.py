"""rtnetlink requests packed by hand: the family headers and the attributes the agent
writes (linux/rtnetlink.h, if_link.h, if_addr.h, neighbour.h, net_namespace.h).

Why not pyroute2's message classes: importing pyroute2 runs its package __init__, which
loads ~165 modules (0.45 s for every command), and its encoder costs 0.1 to 0.4 ms a
message (1.8 s of an apply of 500 containers, profiled); packing with `struct` costs a
few microseconds. Attributes are named as pyroute2 and the kernel headers name them,
and tests/unit/test_nlmsg.py checks every layout against pyroute2's own encoding.

Standard library only: this module is shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# linux/netlink.h
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE, NLM_F_APPEND = 0x100, 0x200, 0x400, 0x800
NLM_F_ACK_TLVS = 0x200
NETLINK_ROUTE, NETLINK_NETFILTER = 0, 12

# linux/netfilter/nfnetlink.h, nf_tables.h
NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_GETTABLE = 1
NFTA_TABLE_NAME, NFTA_TABLE_FLAGS = 1, 2

# linux/rtnetlink.h
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWNEIGH, RTM_DELNEIGH, RTM_GETNEIGH = 28, 29, 30
RTM_GETNSID = 90

IFF_UP, IFF_RUNNING = 0x1, 0x40
IFA_F_NODAD = 0x02

Value = Any
Attr = tuple[str, Value]

_NLA = struct.Struct("=HH")
NLA_F_NESTED = 1 << 15


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) & 3)


def nla(kind: int, payload: bytes) -> bytes:
    """One attribute, padded to 4 bytes."""
    return _pad(_NLA.pack(_NLA.size + len(payload), kind) + payload)


def _flag(_value: bool) -> bytes:
    """A flag attribute: present or not, no payload (leave it out with None)."""
    return b""


def _u8(value: int) -> bytes:
    return struct.pack("=B", value)


def _u16(value: int) -> bytes:
    return struct.pack("=H", value)


def _be16(value: int) -> bytes:
    return struct.pack(">H", value)


def _u32(value: int) -> bytes:
    return struct.pack("=I", value)


def _s32(value: int) -> bytes:
    return struct.pack("=i", value)


def _asciiz(value: str) -> bytes:
    return value.encode() + b"\0"


def _mac(value: str) -> bytes:
    return bytes.fromhex(value.replace(":", ""))


def _ip(value: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6 if ":" in value else socket.AF_INET, value)


Encoder = Callable[[Value], bytes]


@dataclass(frozen=True)
class Table:
    """The attributes of one nesting level: name → (type number, how its value packs)."""

    attrs: Mapping[str, tuple[int, Encoder]]

    def pack(self, attrs: Iterable[Attr]) -> bytes:
        out = bytearray()
        for name, value in attrs:
            if value is None:
                continue
            kind, encode = self.attrs[name]
            out += nla(kind, encode(value))
        return bytes(out)


def _nested(table: Callable[[], Table]) -> Encoder:
    """A nested attribute: its value is a list of (name, value) pairs."""
    return lambda value: table().pack(value)


INET6_ATTRS = Table({"IFLA_INET6_ADDR_GEN_MODE": (8, _u8)})
AF_SPEC_ATTRS = Table({"AF_INET6": (socket.AF_INET6, _nested(lambda: INET6_ATTRS))})
VXLAN_ATTRS = Table({
    "IFLA_VXLAN_ID": (1, _u32),
    "IFLA_VXLAN_LINK": (3, _u32),
    "IFLA_VXLAN_LOCAL": (4, _ip),
    "IFLA_VXLAN_LEARNING": (7, _u8),
    "IFLA_VXLAN_PROXY": (11, _u8),
    "IFLA_VXLAN_PORT": (15, _be16),
})
MACVLAN_ATTRS = Table({"IFLA_MACVLAN_MODE": (1, _u32), "IFLA_MACVLAN_FLAGS": (2, _u16)})
VLAN_ATTRS = Table({"IFLA_VLAN_ID": (1, _u16), "IFLA_VLAN_PROTOCOL": (5, _be16)})
BRIDGE_ATTRS = Table({
    "IFLA_BR_AGEING_TIME": (4, _u32),
    "IFLA_BR_STP_STATE": (5, _u32),
    "IFLA_BR_VLAN_FILTERING": (7, _u8),
    "IFLA_BR_MCAST_SNOOPING": (23, _u8),
})
BRPORT_ATTRS = Table({
    "IFLA_BRPORT_STATE": (1, _u8),
    "IFLA_BRPORT_MODE": (4, _u8),
    "IFLA_BRPORT_LEARNING": (8, _u8),
    "IFLA_BRPORT_UNICAST_FLOOD": (9, _u8),
    "IFLA_BRPORT_FLUSH": (24, _flag),
    "IFLA_BRPORT_MCAST_FLOOD": (27, _u8),
    "IFLA_BRPORT_BCAST_FLOOD": (30, _u8),
    "IFLA_BRPORT_NEIGH_SUPPRESS": (32, _u8),
    "IFLA_BRPORT_ISOLATED": (33, _u8),
    "IFLA_BRPORT_LOCKED": (39, _u8),
})


def _veth_peer(value: Iterable[Attr]) -> bytes:
    """VETH_INFO_PEER carries a whole link request: an ifinfomsg and its attributes."""
    return ifinfomsg().header + IFLA_ATTRS.pack(value)


VETH_ATTRS = Table({"VETH_INFO_PEER": (1, _veth_peer)})
INFO_DATA = {"veth": VETH_ATTRS, "vxlan": VXLAN_ATTRS, "macvlan": MACVLAN_ATTRS,
             "vlan": VLAN_ATTRS, "bridge": BRIDGE_ATTRS}
"""IFLA_INFO_DATA's attributes depend on the link kind."""
SLAVE_DATA = {"bridge": BRPORT_ATTRS}
"""IFLA_INFO_SLAVE_DATA's attributes depend on the kind of the link's master."""
SLAVE = "_slave"


def _linkinfo(value: tuple[str, Iterable[Attr] | None]) -> bytes:
    """IFLA_LINKINFO: (kind, the kind's IFLA_INFO_DATA attributes or None); or, for the
    settings a link has as a port of its master, as `ip link set DEV type bridge_slave`
    writes them, (master's kind + "_slave", IFLA_INFO_SLAVE_DATA attributes)."""
    kind, data = value
    if kind.endswith(SLAVE):
        master = kind.removesuffix(SLAVE)
        return nla(4, _asciiz(master)) + nla(5, SLAVE_DATA[master].pack(data or ()))
    out = nla(1, _asciiz(kind))
    if data:
        out += nla(2, INFO_DATA[kind].pack(data))
    return out


IFLA_ATTRS = Table({
    "IFLA_ADDRESS": (1, _mac),
    "IFLA_IFNAME": (3, _asciiz),
    "IFLA_MTU": (4, _u32),
    "IFLA_LINK": (5, _u32),
    "IFLA_MASTER": (10, _u32),
    "IFLA_LINKINFO": (18, _linkinfo),
    "IFLA_IFALIAS": (20, _asciiz),
    "IFLA_AF_SPEC": (26, _nested(lambda: AF_SPEC_ATTRS)),
    "IFLA_GROUP": (27, _u32),
    "IFLA_NET_NS_FD": (28, _u32),
    "IFLA_EXT_MASK": (29, _u32),
})
IFA_ATTRS = Table({
    "IFA_ADDRESS": (1, _ip),
    "IFA_LOCAL": (2, _ip),
    "IFA_BROADCAST": (4, _ip),
    "IFA_FLAGS": (8, _u32),
})
RTA_ATTRS = Table({
    "RTA_DST": (1, _ip),
    "RTA_OIF": (4, _u32),
    "RTA_GATEWAY": (5, _ip),
})
NDA_ATTRS = Table({
    "NDA_DST": (1, _ip),
    "NDA_LLADDR": (2, _mac),
    "NDA_IFINDEX": (8, _u32),
})
NETNSA_ATTRS = Table({"NETNSA_FD": (3, _u32)})


@dataclass(frozen=True)
class Message:
    """A request's family header and attributes; `header` is also the size of the family
    header the kernel's replies to it carry."""

    header: bytes
    table: Table
    attrs: list[Attr] = field(default_factory=list)

    def body(self) -> bytes:
        return self.header + self.table.pack(self.attrs)


_IFINFOMSG = struct.Struct("=BxHiII")
_IFADDRMSG = struct.Struct("=BBBBI")
_RTMSG = struct.Struct("=BBBBBBBBI")
_NDMSG = struct.Struct("=BxxxiHBB")
_RTGENMSG = struct.Struct("=Bxxx")
_NFGENMSG = struct.Struct("=BBH")


def ifinfomsg(index: int = 0, flags: int = 0, change: int = 0,
              attrs: Iterable[Attr] = ()) -> Message:
    return Message(_IFINFOMSG.pack(0, 0, index, flags, change), IFLA_ATTRS, list(attrs))


def ifaddrmsg(family: int = 0, prefixlen: int = 0, index: int = 0,
              attrs: Iterable[Attr] = ()) -> Message:
    return Message(_IFADDRMSG.pack(family, prefixlen, 0, 0, index), IFA_ATTRS, list(attrs))


def rtmsg(family: int = 0, dst_len: int = 0, table: int = 0, proto: int = 0, scope: int = 0,
          kind: int = 0, attrs: Iterable[Attr] = ()) -> Message:
    return Message(_RTMSG.pack(family, dst_len, 0, 0, table, proto, scope, kind, 0),
                   RTA_ATTRS, list(attrs))


def ndmsg(family: int = 0, index: int = 0, state: int = 0, flags: int = 0,
          attrs: Iterable[Attr] = ()) -> Message:
    return Message(_NDMSG.pack(family, index, state, flags, 0), NDA_ATTRS, list(attrs))


def nsidmsg(attrs: Iterable[Attr] = ()) -> Message:
    return Message(_RTGENMSG.pack(0), NETNSA_ATTRS, list(attrs))


def nfgenmsg(family: int = 0) -> Message:
    """nfnetlink's header: family, version NFNETLINK_V0, resource id 0."""
    return Message(_NFGENMSG.pack(family, 0, 0), Table({}))
