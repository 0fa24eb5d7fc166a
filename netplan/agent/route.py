"""Routes in the main table: all of an owned namespace's (but the kernel's own), and in
the root namespace only those carrying rtm_protocol ROUTE_PROTO."""

from __future__ import annotations

import ipaddress
import socket
import struct

from netplan.agent import rtnl
from netplan.agent.nlmsg import (
    NLM_F_CREATE,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    RTM_DELROUTE,
    RTM_GETROUTE,
    RTM_NEWROUTE,
    Attr,
    Message,
    rtmsg,
)
from netplan.agent.resources import ROOT, ROUTE_PROTO, Route
from netplan.agent.rtnl import Rtnl
from netplan.agent.session import Session

RT_TABLE_MAIN = 254
RTN_UNICAST = 1
RTPROT_KERNEL = 2
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RT_SCOPE_NOWHERE = 255

RTA_DST, RTA_OIF, RTA_GATEWAY = 1, 4, 5  # linux/rtnetlink.h
RTMSG = struct.Struct("=BBBBBBBBI")
"""struct rtmsg: the family header of a route reply."""

DEFAULT = "default"
"""How an IPv4 0.0.0.0/0 destination is written (IPv6 stays ::/0, so the keys differ)."""


def observe(sock: Rtnl, netns: str, names: dict[int, str], proto: int = 0) -> list[Route]:
    """Main-table unicast routes (of protocol `proto` if given), filtered by the kernel.
    One dump for both families (AF_UNSPEC: the kernel runs each family's dump in turn,
    with the same filters): one round trip per namespace less than a dump per family,
    and no ENOENT for a main table the kernel has not made yet (it does so at the first
    route), which a dump for that family alone answers."""
    found = []
    for reply in sock.dump(_DUMPS[proto]):
        family, dst_len, _src, _tos, _table, proto_, _scope, _type, _ = (
            RTMSG.unpack_from(reply.body))
        dev = names.get(reply.u32(RTA_OIF) or 0)  # None without an OIF: multipath, not ours
        if proto_ == RTPROT_KERNEL or dev is None or family not in _FAMILIES:
            continue
        gateway = reply.attrs.get(RTA_GATEWAY)
        found.append(Route(netns, _dst(family, reply.attrs.get(RTA_DST), dst_len), dev,
                           socket.inet_ntop(family, gateway) if gateway else None))
    return found


_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_DUMPS = {proto: rtnl.dump(RTM_GETROUTE, rtmsg(socket.AF_UNSPEC, table=RT_TABLE_MAIN,
                                               proto=proto, kind=RTN_UNICAST))
          for proto in (0, ROUTE_PROTO)}


def _dst(family: int, raw: bytes | None, length: int) -> str:
    if raw is None or length == 0:
        return DEFAULT if family == socket.AF_INET else "::/0"
    return str(ipaddress.ip_network(f"{socket.inet_ntop(family, raw)}/{length}"))


def _message(session: Session, route: Route, deleting: bool = False) -> Message:
    dst = ipaddress.ip_network("0.0.0.0/0" if route.dst == DEFAULT else route.dst)
    family = socket.AF_INET if dst.version == 4 else socket.AF_INET6
    if deleting:
        # Match any scope and, inside our own namespaces, any protocol; in the root
        # namespace never a route that someone else installed.
        scope = RT_SCOPE_NOWHERE
        proto = ROUTE_PROTO if route.netns == ROOT else 0
    else:
        scope = RT_SCOPE_UNIVERSE if route.gateway else RT_SCOPE_LINK
        proto = ROUTE_PROTO
    attrs: list[Attr] = [("RTA_OIF", session.index(route.netns, route.dev))]
    if dst.prefixlen:
        attrs.append(("RTA_DST", str(dst.network_address)))
    if route.gateway:
        attrs.append(("RTA_GATEWAY", route.gateway))
    return rtmsg(family, dst.prefixlen, RT_TABLE_MAIN, proto, scope, RTN_UNICAST, attrs)


def create(session: Session, route: Route) -> None:
    session.sock(route.netns).request(RTM_NEWROUTE, _message(session, route),
                                      NLM_F_CREATE | NLM_F_EXCL)


def update(session: Session, route: Route, fields: tuple[str, ...]) -> None:
    """Only the gateway is mutable: replace the route in place (no gap in forwarding)."""
    if "gateway" in fields:
        session.sock(route.netns).request(RTM_NEWROUTE, _message(session, route),
                                          NLM_F_REPLACE)


def delete(session: Session, route: Route) -> None:
    session.sock(route.netns).request(RTM_DELROUTE, _message(session, route, deleting=True))
