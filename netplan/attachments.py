"""The IPv4 address of each (container, network) attachment in a host's state."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address

from netplan.agent.resources import Address, Macvlan, Veth
from netplan.agent.state import HostState


def current_addresses(
    state: HostState, parse: Callable[[str], IPv4Address] = IPv4Address
) -> dict[tuple[str, str], IPv4Address]:
    """IPv4 address each (container, network) has in `state`, read from its veths and
    macvlans (each parsed by `parse`)."""
    by_link: dict[tuple[str, str], IPv4Address] = {}
    for resource in state.resources.values():
        if isinstance(resource, Address) and ":" not in resource.cidr:
            address = parse(resource.cidr.partition("/")[0])  # 1/3 of an IPv4Interface
            by_link.setdefault((resource.netns, resource.dev), address)
    return {
        (r.container, r.network): by_link[(r.netns, r.name)]
        for r in state.resources.values()
        if isinstance(r, (Veth, Macvlan)) and (r.netns, r.name) in by_link
    }
