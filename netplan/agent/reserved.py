"""What Docker keeps out of its default address pools beyond the host's own addresses
(Facts.reserved): the IPv4 nameservers of the host's resolv.conf, each a /32, and
the destinations of the main table's on-link IPv4 routes (a VPN's `172.17.0.0/16 dev
tun0`), as moby's libnetwork/netutils/utils_linux.go `InferReservedNetworks(false)` and
`queryOnLinkRoutes` find them. Routes through a link the topology owns are left out:
its own bridges' routes are on-link too, and a network keeps the subnet it has."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection, Iterable
from typing import NamedTuple

from netplan.agent import rtnl
from netplan.agent.nlmsg import RTM_GETROUTE, rtmsg
from netplan.agent.route import RT_SCOPE_LINK, RT_TABLE_MAIN, RTA_DST, RTA_OIF, RTMSG
from netplan.agent.rtnl import Rtnl

RESOLV_CONF = "/etc/resolv.conf"
RESOLVED_CONF = "/run/systemd/resolve/resolv.conf"
"""Where systemd-resolved lists the nameservers it forwards to: the file Docker reads
(moby's resolvconf.Path) when /etc/resolv.conf names only resolved's stub, 127.0.0.53."""
_ON_LINK_DUMP = rtnl.dump(RTM_GETROUTE, rtmsg(socket.AF_INET, table=RT_TABLE_MAIN))
"""Every main-table IPv4 route, of any protocol and type, as Docker's RouteList: the
kernel cannot filter a dump by scope."""


class RouteSeen(NamedTuple):
    """The parts of an IPv4 route that say whether it reserves its destination."""

    dst: str | None
    """`172.17.0.0/16`; None for a default route (no RTA_DST: Docker's `Dst == nil`)."""
    scope: int
    dev: str | None
    """Its link's name; None without an output interface (a multipath route)."""


def nameservers(text: str) -> list[str]:
    """The IPv4 nameservers of a resolv.conf's text, as /32s, in its order: IPv6 ones
    and lines that are no `nameserver ADDRESS` are left out."""
    found = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2 or words[0] != "nameserver":
            continue
        try:
            found.append(f"{ipaddress.IPv4Address(words[1])}/32")
        except ValueError:
            continue
    return found


def _names_only_the_stub(text: str) -> bool:
    listed = [words[1] for words in map(str.split, text.splitlines())
              if len(words) >= 2 and words[0] == "nameserver"]  # fmt: skip
    return listed == ["127.0.0.53"]


def resolv_conf_text(path: str = RESOLV_CONF, resolved: str = RESOLVED_CONF) -> str:
    """The text of the resolv.conf Docker takes the host's nameservers from: `path`, or
    `resolved` when `path` names only systemd-resolved's stub; "" when the one to read
    is missing or unreadable (nothing reserved, as for Docker)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            text = file.read()
        if _names_only_the_stub(text):
            with open(resolved, encoding="utf-8", errors="replace") as file:
                text = file.read()
    except OSError:
        return ""
    return text


def on_link(routes: Iterable[RouteSeen], ours: Collection[str]) -> list[str]:
    """The destinations of the on-link routes (scope link, not a default route) that go
    through no link in `ours`, in their order."""
    return [route.dst for route in routes
            if route.dst is not None and route.scope == RT_SCOPE_LINK
            and route.dev not in ours]  # fmt: skip


def observe(sock: Rtnl, names: dict[int, str], ours: Collection[str]) -> tuple[str, ...]:
    """The prefixes Docker would reserve on the host of the root namespace `sock` is in
    (`names`: its links' names by index), but for routes through `ours`; sorted, each
    once."""
    found = set(nameservers(resolv_conf_text()))
    found.update(on_link([_seen(reply, names) for reply in sock.dump(_ON_LINK_DUMP)], ours))
    return tuple(sorted(found, key=ipaddress.IPv4Network))


def _seen(reply: rtnl.Reply, names: dict[int, str]) -> RouteSeen:
    _family, dst_len, _src, _tos, _table, _proto, scope, _type, _ = (
        RTMSG.unpack_from(reply.body))
    raw = reply.attrs.get(RTA_DST)
    dst = None if raw is None else str(ipaddress.IPv4Network(
        f"{socket.inet_ntop(socket.AF_INET, raw)}/{dst_len}", strict=False))
    return RouteSeen(dst, scope, names.get(reply.u32(RTA_OIF) or 0))
