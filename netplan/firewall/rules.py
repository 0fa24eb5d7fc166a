"""A host's share of the topology → its nftables tables and sysctls (pure).

One `inet` table holds every filter and NAT rule of the topology on the host; a `bridge`
table is added only for networks with `icc: false` (traffic between two ports of one
bridge never reaches the inet family without br_netfilter, which would change every
bridge on the host). Each base chain is our own, with policy accept and a priority 10
before the standard one, so that our NAT mappings win (the first one made counts) and
nobody else's chains or policies are touched; a chain is written only when it has
rules. The text is what `nft list` prints, so the agent's reading of `nft -j` compares
equal to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from netplan.agent.resources import (
    BRIDGE_GROUP,
    IP_FORWARD,
    NftTable,
    Resource,
    Sysctl,
    nft_table_name,
    route_localnet,
)
from netplan.firewall.ports import LOOPBACK, PortMapping

CHAINS = {
    "prerouting": "type nat hook prerouting priority -110",
    "input": "type filter hook input priority -10",
    "output": "type nat hook output priority -110",
    "postrouting": "type nat hook postrouting priority 90",
    "forward": "type filter hook forward priority -10",
}
"""Our base chains, in the order they are written (and listed back)."""


@dataclass(frozen=True)
class Segment:
    """One bridge network on the host, as the firewall sees it."""

    bridge: str
    subnet: IPv4Network
    nat: bool = True
    internal: bool = False
    icc: bool = True
    ports: tuple[str, ...] = ()
    """Host ends of the containers' veths (the bridge's ports)."""


@dataclass(frozen=True)
class Published:
    """A published port and the container address behind it."""

    mapping: PortMapping
    address: IPv4Address
    bridge: str


def render(topology: str, segments: list[Segment], published: list[Published]) -> list[Resource]:
    """Nothing without a bridge network; else the inet table and ip_forward, and the
    bridge table and per-bridge route_localnet where needed."""
    if not segments:
        return []
    name = nft_table_name(topology)
    inet = _table("inet", name, _inet_rules(segments, sorted(published, key=_order)))
    found: list[Resource] = [inet, Sysctl(IP_FORWARD, "1")]
    icc_rules = [
        ("forward", f"iifname {ports} oifname {ports} drop")
        for segment in segments
        if not segment.icc and segment.ports
        for ports in [_set(f'"{port}"' for port in sorted(segment.ports))]
    ]
    if icc_rules:
        found.append(_table("bridge", name, icc_rules))
    localnet = sorted({p.bridge for p in published if p.mapping.via_localhost})
    found += [Sysctl(route_localnet(bridge), "1") for bridge in localnet]
    return found


def _table(family: str, name: str, rules: list[tuple[str, str]]) -> NftTable:
    used = [chain for chain in CHAINS if any(c == chain for c, _ in rules)]
    return NftTable(
        family,
        name,
        tuple(f"{chain}: {CHAINS[chain]}; policy accept" for chain in used),
        tuple(f"{chain}: {rule}" for chain in used for c, rule in rules if c == chain),
    )


def _inet_rules(segments: list[Segment], published: list[Published]) -> list[tuple[str, str]]:
    rules: list[tuple[str, str]] = []
    for item in published:
        dnat = _dnat(item)
        if item.mapping.from_outside:
            rules.append(("prerouting", dnat))
        rules.append(("output", dnat))
    for segment in segments:
        if segment.nat and not segment.internal:
            rules.append(("postrouting", f'ip saddr {segment.subnet} oifname != "{segment.bridge}" '
                                         "masquerade"))
    for bridge in sorted({p.bridge for p in published if p.mapping.via_localhost}):
        rules.append(("postrouting", f'ip saddr {LOOPBACK} oifname "{bridge}" masquerade'))
        # route_localnet would also let the bridge's containers reach the host's
        # localhost-only services (CVE-2020-8558): only replies may come in that way.
        rules.append(("input", f'iifname "{bridge}" ip daddr {LOOPBACK} ct state new drop'))
    for bridge in sorted({p.bridge for p in published}):
        # Hairpin: a container reaching a neighbour (or itself) through a host address.
        rules.append(("postrouting", f'ct status dnat iifname "{bridge}" oifname "{bridge}" '
                                     "masquerade"))
    return rules + _forward_rules(segments)


def _forward_rules(segments: list[Segment]) -> list[tuple[str, str]]:
    """Internal networks first (nothing crosses their edge, published or not); then
    published ports may cross between bridges, this topology's or another's; else none
    of its bridges reaches another bridge netplan made (BRIDGE_GROUP), of any topology.
    Each topology's table drops what leaves its own bridges: together they isolate
    every pair of topologies both ways, as Docker isolates all of its networks."""
    rules: list[tuple[str, str]] = []
    for segment in segments:
        if segment.internal:
            bridge = f'"{segment.bridge}"'
            rules.append(("forward", f"iifname {bridge} oifname != {bridge} drop"))
            rules.append(("forward", f"oifname {bridge} iifname != {bridge} drop"))
    isolation = [
        ("forward", f'iifname "{bridge}" oifname != "{bridge}" oifgroup {BRIDGE_GROUP} drop')
        for bridge in sorted(s.bridge for s in segments if not s.internal)
    ]
    if isolation:
        rules.append(("forward", "ct status dnat accept"))
    return rules + isolation


def _order(item: Published) -> tuple[int, str, str]:
    mapping = item.mapping
    return (mapping.host_port, mapping.protocol, str(mapping.host_ip or ""))


def _dnat(item: Published) -> str:
    mapping = item.mapping
    where = "fib daddr type local" if mapping.host_ip is None else f"ip daddr {mapping.host_ip}"
    return (f"{where} {mapping.protocol} dport {mapping.host_port} "
            f"dnat ip to {item.address}:{mapping.container_port}")


def _set(items: Iterable[str]) -> str:
    """One value alone, several as an anonymous set (nft prints them so)."""
    values = list(items)
    return values[0] if len(values) == 1 else "{ " + ", ".join(values) + " }"
