"""Overlays as `netplan show` writes them back: one network per VXLAN device name found
on the hosts, in the form the topology file takes (netplan/show.py does the rest)."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Interface
from typing import Any

from netplan.agent.resources import Address, Veth, Vxlan
from netplan.agent.state import HostState
from netplan.topology.model import VXLAN_PORT


def overlay_networks(observed: Mapping[str, HostState]) -> dict[str, dict[str, Any]]:
    """driver, subnet (from its containers' addresses), vni, hosts, mtu, bridge, and
    port and static_peers where not the default."""
    specs: dict[str, dict[str, Any]] = {}
    for host, state in observed.items():
        for tunnel in (r for r in state.resources.values() if isinstance(r, Vxlan)):
            spec = specs.setdefault(
                tunnel.network, {"driver": "overlay", "vni": tunnel.vni, "hosts": []}
            )
            spec["hosts"].append(host)
            spec.update(mtu=tunnel.mtu, bridge=tunnel.bridge)
            if tunnel.port != VXLAN_PORT:
                spec["port"] = tunnel.port
            if not tunnel.proxy:
                spec["static_peers"] = False
        addresses = {
            (r.netns, r.dev): IPv4Interface(r.cidr)
            for r in state.resources.values()
            if isinstance(r, Address) and ":" not in r.cidr
        }
        for veth in (r for r in state.resources.values() if isinstance(r, Veth)):
            address = addresses.get((veth.netns, veth.name))
            if veth.network in specs and address is not None:
                specs[veth.network].setdefault("subnet", str(address.network))
    return {name: _ordered(spec) for name, spec in specs.items()}


def _ordered(spec: dict[str, Any]) -> dict[str, Any]:
    """The fields in the order the model declares them (subnet right after driver)."""
    order = ["driver", "subnet", "vni", "hosts", "mtu", "port", "static_peers", "bridge"]
    return {key: spec[key] for key in order if key in spec}
