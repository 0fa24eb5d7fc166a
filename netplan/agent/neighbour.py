"""Permanent neighbour (ARP) entries on our VXLAN devices, which their ARP proxy answers
from: a container on the host asking for a remote container's address is answered on
the spot, and no ARP crosses the underlay. They are ours because the device is.

The neighbour message layout (ndmsg) is shared with fdb.py, which uses it for AF_BRIDGE.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from typing import Any

from netplan.agent import rtnl
from netplan.agent.nlmsg import (
    NLM_F_CREATE,
    NLM_F_REPLACE,
    RTM_DELNEIGH,
    RTM_GETNEIGH,
    RTM_NEWNEIGH,
    Message,
    ndmsg,
)
from netplan.agent.resources import ROOT, Neighbour
from netplan.agent.rtnl import Reply, Rtnl
from netplan.agent.session import Session

NUD_PERMANENT = 0x80
NDA_DST, NDA_LLADDR = 1, 2  # linux/neighbour.h
NDMSG = struct.Struct("=BxxxiHBB")
"""family, ifindex, state, flags, type"""


def message(family: int, index: int, state: int = 0, flags: int = 0, **attrs: Any) -> Message:
    """An ndmsg; keyword arguments are NLA names (NDA_DST="10.0.0.2")."""
    return ndmsg(family, index, state, flags, attrs.items())


def address(raw: bytes) -> str:
    """An NDA_DST payload: 4 bytes IPv4, 16 bytes IPv6."""
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


def permanent(reply: Reply) -> tuple[int, int] | None:
    """(ifindex, flags) of a permanent entry; None for one the kernel made or learned."""
    _family, index, state, flags, _type = NDMSG.unpack_from(reply.body)
    return (index, flags) if state & NUD_PERMANENT else None


def observe(sock: Rtnl, devices: dict[int, str]) -> list[Neighbour]:
    """The permanent IPv4 entries on each of `devices` (index → name): one dump per
    device, filtered by the kernel (NDA_IFINDEX)."""
    found = []
    for index, dev in devices.items():
        query = rtnl.dump(RTM_GETNEIGH, message(socket.AF_INET, 0, NDA_IFINDEX=index))
        for reply in sock.dump(query):
            ip, mac = reply.attrs.get(NDA_DST), reply.attrs.get(NDA_LLADDR)
            if permanent(reply) is not None and ip is not None and mac is not None:
                found.append(Neighbour(dev, address(ip), mac.hex(":")))
    return found


def _message(session: Session, entry: Neighbour, **attrs: Any) -> Any:
    family = socket.AF_INET if ipaddress.ip_address(entry.dst).version == 4 else socket.AF_INET6
    return message(family, session.index(ROOT, entry.dev), NUD_PERMANENT,
                   NDA_DST=entry.dst, **attrs)


def create(session: Session, entry: Neighbour) -> None:
    """Replacing whatever entry the device has for the address: one that is not
    permanent (learned, or made so by hand) is not observed as ours, and is made this one
    instead of failing as existing."""
    session.root.request(RTM_NEWNEIGH, _message(session, entry, NDA_LLADDR=entry.mac),
                         NLM_F_CREATE | NLM_F_REPLACE)


def update(session: Session, entry: Neighbour, fields: tuple[str, ...]) -> None:
    """Only the MAC is mutable: replace it in place."""
    if "mac" in fields:
        session.root.request(RTM_NEWNEIGH, _message(session, entry, NDA_LLADDR=entry.mac),
                             NLM_F_REPLACE)


def delete(session: Session, entry: Neighbour) -> None:
    session.root.request(RTM_DELNEIGH, _message(session, entry))
