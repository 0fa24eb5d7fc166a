"""Subnets the host already routes elsewhere: a bridge network's gateway address whose
subnet overlaps an address of a link this topology does not own (the host's own LAN,
another topology's bridge) would take over the host's route to that subnet, as Docker
refuses with "Pool overlaps with other one on this address space". Pure."""

from __future__ import annotations

from ipaddress import IPv4Network, ip_network

from netplan.agent.resources import ROOT, Address, link_key
from netplan.agent.state import HostState
from netplan.plan.changes import Conflict

HINT = "pick a subnet the host does not route yet, or remove that address"


def overlap_conflicts(desired: HostState, observed: HostState) -> list[Conflict]:
    """One conflict per desired root-namespace address whose subnet overlaps a foreign
    link's (Facts.prefixes), naming that link and whose it is."""
    taken = [(ip_network(cidr, strict=False), cidr, link)
             for cidr, link in sorted(observed.facts.prefixes.items())]
    found = []
    for resource in desired.resources.values():
        if not isinstance(resource, Address) or resource.netns != ROOT:
            continue
        subnet = ip_network(resource.cidr, strict=False)
        if not isinstance(subnet, IPv4Network):
            continue
        for other, cidr, link in taken:
            if subnet.overlaps(other):
                whose = observed.foreign.get(link_key(ROOT, link), "is not managed by netplan")
                found.append(Conflict(f"subnet {subnet} (on {resource.dev})",
                                      f"overlaps {cidr} on {link}, which {whose}", HINT))
    return found
