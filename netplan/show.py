"""What the hosts have that a topology owns, written back as a topology file.

The output is itself a valid topology (`netplan validate` accepts it): nmstate's rule
that `show` prints what `apply` takes. Addresses appear as static `ipv4`, MACs only
where they differ from the address-derived default, MTUs only where not 1500, aliases
as the hosts files name them (netplan/show_aliases.py); containers and networks in an
order that renders the same hosts files and firewall rules (netplan/show_order.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from ipaddress import IPv4Interface
from typing import Any

from netplan.agent.resources import ROOT, Address, Bridge, HostsFile, Macvlan, Netns, Veth
from netplan.agent.state import HostState
from netplan.drivers.bridge import DEFAULT_MTU
from netplan.drivers.macvlan_show import macvlan_networks
from netplan.drivers.overlay_show import overlay_networks
from netplan.firewall.show import network_orders, network_settings, published_ports
from netplan.ipam import mac_for
from netplan.processes import shown_processes
from netplan.show_aliases import Attachment, read_aliases
from netplan.show_order import merged_order, network_members


def ipv4_addresses(state: HostState) -> dict[tuple[str, str], IPv4Interface]:
    found: dict[tuple[str, str], IPv4Interface] = {}
    for resource in state.resources.values():
        if isinstance(resource, Address) and ":" not in resource.cidr:
            found.setdefault((resource.netns, resource.dev), IPv4Interface(resource.cidr))
    return found


def networks_of(state: HostState, host: str | None) -> dict[str, dict[str, Any]]:
    addresses = ipv4_addresses(state)
    networks: dict[str, dict[str, Any]] = {}
    for bridge in state.resources.values():
        if not isinstance(bridge, Bridge):
            continue
        spec: dict[str, Any] = {"driver": "bridge", "bridge": bridge.name}
        gateway = addresses.get((ROOT, bridge.name))
        if gateway is not None:
            spec["subnet"] = str(gateway.network)
            spec["gateway"] = str(gateway.ip)
        if bridge.mtu is not None and bridge.mtu != DEFAULT_MTU:
            spec["mtu"] = bridge.mtu
        if host is not None:
            spec["host"] = host
        networks[bridge.network] = spec
    return networks


def containers_of(state: HostState, host: str | None) -> dict[str, dict[str, Any]]:
    addresses = ipv4_addresses(state)
    veths: dict[str, list[Veth | Macvlan]] = defaultdict(list)
    for resource in state.resources.values():
        if isinstance(resource, (Veth, Macvlan)):
            veths[resource.netns].append(resource)
    containers: dict[str, dict[str, Any]] = {}
    for netns in state.resources.values():
        if not isinstance(netns, Netns):
            continue
        spec: dict[str, Any] = {}
        if host is not None:
            spec["host"] = host
        attached: dict[str, dict[str, Any]] = {}
        for veth in sorted(veths[netns.name], key=lambda v: (len(v.name), v.name)):
            attachment: dict[str, Any] = {}
            address = addresses.get((veth.netns, veth.name))
            if address is not None:
                attachment["ipv4"] = str(address.ip)
            passthru = isinstance(veth, Macvlan) and veth.mode == "passthru"  # parent's MAC
            if veth.mac and not passthru and (address is None or veth.mac != mac_for(address.ip)):
                attachment["mac"] = veth.mac
            attached[veth.network] = attachment
        if attached:
            spec["networks"] = attached
        else:
            spec["network_mode"] = "none"
        containers[netns.name] = spec
    return containers


def observed_topology(name: str, observed: Mapping[str, HostState]) -> dict[str, Any]:
    multi = len(observed) > 1
    topology: dict[str, Any] = {"version": 1, "name": name, "hosts": {h: {} for h in observed}}
    networks: dict[str, Any] = {}
    containers: dict[str, Any] = {}
    for host, state in observed.items():
        networks.update(networks_of(state, host if multi else None))
        containers.update(containers_of(state, host if multi else None))
        for network, settings in network_settings(state).items():
            networks[network].update(settings)
        shown_processes(state, containers, host if multi else None)
        for container, ports in published_ports(state).items():
            containers[container]["publish"] = ports
    networks.update(overlay_networks(observed))  # their bridges are not bridge networks
    networks.update(macvlan_networks(observed))
    files = hosts_files(observed)
    addresses = attachment_addresses(containers)
    hostnames = {container: spec["hostname"] for container, spec in containers.items()
                 if "hostname" in spec}
    for (container, network), aliases in read_aliases(files, addresses, hostnames).items():
        containers[container]["networks"][network]["aliases"] = aliases
    rule_orders = [order for state in observed.values() for order in network_orders(state)]
    topology["networks"] = in_order(networks, rule_orders)
    topology["containers"] = in_order(containers, network_members(files, addresses, hostnames))
    return topology


def in_order(specs: Mapping[str, Any], orders: list[list[str]]) -> dict[str, Any]:
    """`specs` in one order consistent with every one of `orders` (netplan/show_order.py)."""
    return {name: specs[name] for name in merged_order(orders, specs)}


def hosts_files(observed: Mapping[str, HostState]) -> dict[str, str]:
    """Container → the text of its hosts file, on every host (a container's peers on an
    overlay network may be on other hosts)."""
    return {resource.netns: resource.content for state in observed.values()
            for resource in state.resources.values() if isinstance(resource, HostsFile)}


def attachment_addresses(containers: Mapping[str, dict[str, Any]]) -> dict[Attachment, str]:
    """(container, network) → the container's IPv4 address there, as shown."""
    return {(container, network): attachment["ipv4"]
            for container, spec in containers.items()
            for network, attachment in spec.get("networks", {}).items()
            if "ipv4" in attachment}

