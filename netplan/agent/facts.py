"""Facts about the host the controller asks for alongside its state: the underlay that
overlay tunnels leave through (its interface, IPv4 address and MTU), the interfaces
macvlan networks hang from (and whether the kernel can make VLAN links for them), and
the IPv4 addresses the host has (a published port bound to one must be one of them)."""

from __future__ import annotations

import ipaddress
import os
import stat

from netplan.agent import address
from netplan.agent.links import Link
from netplan.agent.resources import ROOT
from netplan.agent.rtnl import Rtnl
from netplan.agent.state import Interface, Underlay

LOOPBACK_INDEX = 1
"""The kernel gives the loopback link this index in every network namespace."""
VLAN_PROC = "/proc/net/vlan"
"""Present once the kernel's 802.1Q support is loaded (in the caller's namespace)."""


def underlay(sock: Rtnl, hint: str, root_links: dict[int, Link]) -> Underlay:
    """`hint` is an interface name or one of its IPv4 addresses; the answer has both,
    and the interface's MTU, or an error saying which is missing."""
    names = {index: link.name for index, link in root_links.items()}
    by_name = {link.name: link for link in root_links.values()}
    try:
        wanted = ipaddress.IPv4Address(hint)
    except ValueError:
        link = by_name.get(hint)
        if link is None:
            return Underlay(hint, error=f"there is no interface {hint}")
        ips = _ipv4(sock, {link.index: link.name}, link.index)
        if not ips:
            return Underlay(hint, error=f"interface {hint} has no IPv4 address")
        return _found(hint, link, ips[0][1])
    for dev, ip in _ipv4(sock, names):
        if ip == wanted:
            return _found(hint, by_name[dev], ip)
    return Underlay(hint, error=f"no interface has the address {hint}")


def _found(hint: str, link: Link, ip: ipaddress.IPv4Address) -> Underlay:
    if not link.up:
        return Underlay(hint, link.name, str(ip), link.mtu, f"interface {link.name} is down")
    return Underlay(hint, link.name, str(ip), link.mtu)


def _ipv4(sock: Rtnl, names: dict[int, str],
          index: int = 0) -> list[tuple[str, ipaddress.IPv4Address]]:
    """(interface, address) of the IPv4 addresses on `names` (or on link `index` only)."""
    found = []
    for entry in address.observe(sock, ROOT, names, index):
        ip = ipaddress.ip_interface(entry.cidr).ip
        if isinstance(ip, ipaddress.IPv4Address):
            found.append((entry.dev, ip))
    return found


def local_ips(sock: Rtnl, root_links: dict[int, Link]) -> tuple[str, ...]:
    """The IPv4 addresses of every root-namespace link, whoever owns it, as the networks
    a socket may bind (what Docker's proxy does for a published port's host IP): one
    address each (`/32`), but the loopback link's whole subnet, which the kernel takes as
    local (`127.0.0.0/8`: 127.0.0.53 is the host's too). Sorted, each once."""
    names = {index: link.name for index, link in root_links.items()}
    loopback = names.get(LOOPBACK_INDEX)
    found = set()
    for entry in address.observe(sock, ROOT, names, loopback=True):
        ip = ipaddress.ip_interface(entry.cidr)
        if isinstance(ip, ipaddress.IPv4Interface):
            found.add(str(ip.network if entry.dev == loopback else ipaddress.IPv4Network(ip.ip)))
    return tuple(sorted(found))


def interfaces(names: list[str], root_links: dict[int, Link]) -> dict[str, Interface]:
    """Those of `names` that are links of the root namespace."""
    by_name = {link.name: link for link in root_links.values()}
    return {name: Interface(link.kind, link.mtu, link.up)
            for name in names if (link := by_name.get(name)) is not None}


def vlan_support() -> bool:
    """802.1Q support is loaded, built in, or a module the kernel can load on demand."""
    if os.path.isdir(VLAN_PROC):
        return True
    modules = f"/lib/modules/{os.uname().release}"
    for listing in ("modules.builtin", "modules.dep"):
        try:
            with open(os.path.join(modules, listing)) as text:
                if "/8021q.ko" in text.read():
                    return True
        except OSError:
            continue
    return False


def paths(names: list[str]) -> dict[str, str]:
    """What each host path is (`dir`, `file`, `other`) or `missing`: a volume's source
    must exist on its host before anything is changed."""
    found = {}
    for name in names:
        try:
            mode = os.stat(name).st_mode
        except OSError:
            found[name] = "missing"
            continue
        found[name] = "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"
    return found
