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
    return {attachment: parse(text) for attachment, text in address_texts(state).items()}


def address_texts(state: HostState) -> dict[tuple[str, str], str]:
    """current_addresses, as the text of each address's CIDR (the kernel's and
    compile's are canonical: IPv4Address accepts no other), without parsing it."""
    by_link: dict[tuple[str, str], str] = {}
    for resource in state.resources.values():
        if isinstance(resource, Address) and ":" not in resource.cidr:
            by_link.setdefault((resource.netns, resource.dev), resource.cidr.partition("/")[0])
    return {
        (r.container, r.network): by_link[(r.netns, r.name)]
        for r in state.resources.values()
        if isinstance(r, (Veth, Macvlan)) and (r.netns, r.name) in by_link
    }
