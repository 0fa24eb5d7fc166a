"""IP addresses on links: inside owned namespaces, and on owned bridges."""

from __future__ import annotations

import ipaddress
import socket
import struct

from netplan.agent import rtnl
from netplan.agent.nlmsg import (
    IFA_F_NODAD,
    NLM_F_CREATE,
    NLM_F_EXCL,
    RTM_DELADDR,
    RTM_GETADDR,
    RTM_NEWADDR,
    Attr,
    Message,
    ifaddrmsg,
)
from netplan.agent.resources import Address
from netplan.agent.rtnl import Rtnl
from netplan.agent.session import Session

Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IFA_ADDRESS, IFA_LOCAL = 1, 2  # linux/if_addr.h
_IFADDRMSG = struct.Struct("=BBBBi")


_DUMP = rtnl.dump(RTM_GETADDR, ifaddrmsg())


def observe(sock: Rtnl, netns: str, names: dict[int, str], index: int = 0,
            loopback: bool = False) -> list[Address]:
    """Addresses on the links named in `names` (all but `lo`, unless `loopback`), or on
    link `index` only (the kernel filters). Kernel-made IPv6 link-local addresses are
    left out."""
    found = []
    for reply in sock.dump(_DUMP if index == 0 else rtnl.dump(RTM_GETADDR, ifaddrmsg(index=index))):
        family, prefixlen, _flags, _scope, link = _IFADDRMSG.unpack_from(reply.body)
        dev = names.get(link)
        # For IPv4, IFA_LOCAL is the address; IFA_ADDRESS is the peer on point-to-point.
        raw = reply.attrs.get(IFA_LOCAL) or reply.attrs.get(IFA_ADDRESS)
        if dev is None or (dev == "lo" and not loopback) or raw is None:
            continue
        text = _text(family, raw, prefixlen)
        if text is not None:
            found.append(Address(netns, dev, text))
    return found


def _text(family: int, raw: bytes, prefixlen: int) -> str | None:
    """The address as the desired state writes it (str of an ipaddress interface), None
    for an IPv6 link-local one. IPv4 is formatted by inet_ntop alone: an ipaddress object
    per address was a tenth of observing a namespace."""
    if family == socket.AF_INET:
        return f"{socket.inet_ntop(family, raw)}/{prefixlen}"
    ip = ipaddress.IPv6Interface((raw, prefixlen))
    return None if ip.ip.is_link_local else str(ip)


def _message(index: int, ip: Interface) -> Message:
    family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
    attrs: list[Attr] = [("IFA_ADDRESS", str(ip.ip))]
    if ip.version == 4:
        attrs.append(("IFA_LOCAL", str(ip.ip)))
        if ip.network.prefixlen < 31:  # as Docker (vishvananda/netlink) sets it
            attrs.append(("IFA_BROADCAST", str(ip.network.broadcast_address)))
    else:
        attrs.append(("IFA_FLAGS", IFA_F_NODAD))  # usable at once, as Docker does
    return ifaddrmsg(family, ip.network.prefixlen, index, attrs)


def create(session: Session, address: Address) -> None:
    msg = _message(session.index(address.netns, address.dev), ipaddress.ip_interface(address.cidr))
    session.sock(address.netns).request(RTM_NEWADDR, msg, NLM_F_CREATE | NLM_F_EXCL)


def delete(session: Session, address: Address) -> None:
    msg = _message(session.index(address.netns, address.dev), ipaddress.ip_interface(address.cidr))
    session.sock(address.netns).request(RTM_DELADDR, msg)
