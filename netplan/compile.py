"""Compile a topology into the desired state of each host (IPs, MACs and names decided here).

Pure: the observed state is an input only so that allocation is sticky (an address a
container already has stays its address when the file grows or is reordered).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Interface

from netplan.agent.resources import ROOT, Address, Bridge, Netns, Route, Veth
from netplan.agent.state import HostState
from netplan.errors import Problem, TopologyError
from netplan.ipam import ExhaustedError, Pool, Request, allocate, mac_for, make_pool
from netplan.topology.model import BridgeNetwork, Topology
from netplan.topology.names import bridge_name

DEFAULT_MTU = 1500


def veth_name(topology: str, container: str, network: str) -> str:
    """Host end of a container's veth: `veth` + 7 hex digits, like Docker's (11 bytes)."""
    digest = hashlib.sha256(f"{topology}/{container}/{network}".encode()).hexdigest()
    return "veth" + digest[:7]


def current_addresses(observed: HostState) -> dict[tuple[str, str], IPv4Address]:
    """IPv4 address each (container, network) has now, read from observed veths."""
    by_link: dict[tuple[str, str], IPv4Address] = {}
    for resource in observed.resources.values():
        if isinstance(resource, Address):
            interface = IPv4Interface(resource.cidr) if ":" not in resource.cidr else None
            if interface is not None:
                by_link.setdefault((resource.netns, resource.dev), interface.ip)
    return {
        (r.container, r.network): by_link[(r.netns, r.name)]
        for r in observed.resources.values()
        if isinstance(r, Veth) and (r.netns, r.name) in by_link
    }


def network_pool(network: BridgeNetwork) -> Pool:
    return make_pool(network.subnet, network.ip_range, network.gateway)


def assign_addresses(
    topology: Topology, observed: Mapping[str, HostState]
) -> dict[tuple[str, str], IPv4Address]:
    """Address of every (container, network) attachment, for all hosts at once."""
    current: dict[tuple[str, str], IPv4Address] = {}
    for state in observed.values():
        current.update(current_addresses(state))
    result: dict[tuple[str, str], IPv4Address] = {}
    problems: list[Problem] = []
    for net_name, network in topology.networks.items():
        requests = [
            Request(name, attachment.ipv4)
            for name, container in topology.containers.items()
            for attached, attachment in container.networks.items()
            if attached == net_name
        ]
        kept = {c: a for (c, n), a in current.items() if n == net_name}
        try:
            assigned = allocate(network_pool(network), requests, kept)
        except ExhaustedError as exc:
            problems.append(
                Problem(
                    f"network has no free addresses left: {exc}",
                    path=f"networks.{net_name}.subnet",
                    hint="use a larger subnet or ip_range",
                )
            )
            continue
        result.update({(c, net_name): a for c, a in assigned.items()})
    if problems:
        raise TopologyError(problems)
    return result


def compile_topology(topology: Topology, observed: Mapping[str, HostState]) -> dict[str, HostState]:
    """The desired state of every host named in the topology."""
    desired = {host: HostState() for host in topology.hosts}
    addresses = assign_addresses(topology, observed)
    bridges: dict[str, str] = {}
    for net_name, network in topology.networks.items():
        state = desired[topology.host_of_network(net_name)]
        bridges[net_name] = bridge_name(topology.name, net_name, network)
        pool = network_pool(network)
        state.add(Bridge(bridges[net_name], net_name, network.mtu))
        state.add(Address(ROOT, bridges[net_name], f"{pool.gateway}/{network.subnet.prefixlen}"))

    for name, container in topology.containers.items():
        if container.network_mode in ("host",) or container.shares_with:
            continue
        state = desired[topology.host_of_container(name)]
        state.add(Netns(name))
        for index, (net_name, attachment) in enumerate(container.networks.items()):
            network = topology.networks[net_name]
            dev = f"eth{index}"
            address = addresses[(name, net_name)]
            state.add(
                Veth(
                    netns=name,
                    name=dev,
                    peer=veth_name(topology.name, name, net_name),
                    bridge=bridges[net_name],
                    container=name,
                    network=net_name,
                    mac=attachment.mac or mac_for(address),
                    mtu=network.mtu or DEFAULT_MTU,
                )
            )
            state.add(Address(name, dev, f"{address}/{network.subnet.prefixlen}"))
            if index == 0:
                state.add(Route(name, "default", dev, str(network_pool(network).gateway)))
    return desired
