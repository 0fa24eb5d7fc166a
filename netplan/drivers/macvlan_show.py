"""Macvlan networks as `netplan show` writes them back: one network per name found on the
containers' macvlans, in the form the topology file takes (netplan/show.py does the rest)."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Interface
from typing import Any

from netplan.agent.resources import Address, Macvlan, Route
from netplan.agent.state import HostState


def macvlan_networks(observed: Mapping[str, HostState]) -> dict[str, dict[str, Any]]:
    """driver, parent, mode (when not bridge), subnet and gateway (from its containers'
    addresses and default routes), mtu, and host when there are several."""
    specs: dict[str, dict[str, Any]] = {}
    for host, state in observed.items():
        resources = state.resources.values()
        addresses = {(r.netns, r.dev): IPv4Interface(r.cidr)
                     for r in resources if isinstance(r, Address) and ":" not in r.cidr}
        gateways = {(r.netns, r.dev): r.gateway
                    for r in resources if isinstance(r, Route) and r.dst == "default"}
        for link in (r for r in resources if isinstance(r, Macvlan)):
            spec = specs.setdefault(link.network, {"driver": "macvlan", "parent": link.lower})
            if link.mode != "bridge":
                spec["mode"] = link.mode
            address = addresses.get((link.netns, link.name))
            if address is not None:
                spec.setdefault("subnet", str(address.network))
            gateway = gateways.get((link.netns, link.name))
            if gateway is not None:
                spec["gateway"] = gateway
            if len(observed) > 1:
                spec["host"] = host
    return specs
