"""The firewall's part of compiling: what each host's bridges and published ports need."""

from __future__ import annotations

from netplan.drivers.base import Context
from netplan.firewall.ports import PortMapping
from netplan.firewall.rules import Published, Segment, render
from netplan.topology.model import BridgeNetwork, Topology
from netplan.topology.names import bridge_name


def compile_firewall(context: Context) -> None:
    """Add each host's nftables tables and sysctls to its desired state."""
    topology = context.topology
    for host, state in context.desired.items():
        for resource in render(topology.name, segments(context, host), published(context, host)):
            state.add(resource)


def segments(context: Context, host: str) -> list[Segment]:
    topology = context.topology
    found = []
    for name, network in topology.networks.items():
        if not isinstance(network, BridgeNetwork) or topology.host_of_network(name) != host:
            continue  # an overlay: the hosts route nothing to it, nor NAT it
        ports = tuple(
            context.veth_name(container, name)
            for container, spec in topology.containers.items()
            if name in spec.networks
        )
        bridge = bridge_name(topology.name, name, network)
        found.append(
            Segment(bridge, context.pool(name).subnet, network.nat, network.internal,
                    network.icc, ports)
        )
    return found


def published(context: Context, host: str) -> list[Published]:
    """Ports of containers with a namespace of their own on `host`, to their address on
    the network that carries their default route (`host` mode ignores them, as Docker)."""
    topology = context.topology
    found = []
    for name, container in topology.containers.items():
        network = context.gateway_network(name)
        if network is None or context.host_of(name) != host:
            continue
        spec = topology.networks[network]
        if not isinstance(spec, BridgeNetwork):
            continue  # a macvlan: ignored, as Docker ignores them
        address = context.addresses[(name, network)]
        bridge = bridge_name(topology.name, network, spec)
        found += [Published(PortMapping.parse(text), address, bridge) for text in container.publish]
    return found


def published_on(topology: Topology, host: str) -> list[PortMapping]:
    """The ports the containers of `host` publish: its observation must report the host
    ports others take (netplan/plan/port_clashes.py), and, if one is bound to a host IP,
    the host's addresses (netplan/plan/publish_ips.py)."""
    return [PortMapping.parse(text) for name, container in topology.containers.items()
            if container.network_mode is None and topology.host_of_container(name) == host
            for text in container.publish]
