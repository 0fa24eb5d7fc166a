"""What every network driver provides to the compiler, and the context it is given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any

from netplan.agent.resources import Address, Veth
from netplan.agent.state import HostState
from netplan.ipam import Pool, mac_for, network_pool
from netplan.topology.model import Attachment, Topology
from netplan.topology.names import veth_name


@dataclass(frozen=True)
class Context:
    """What the compiler has decided so far, shared by every driver."""

    topology: Topology
    desired: dict[str, HostState]
    """Desired state by host, being filled in."""
    addresses: dict[tuple[str, str], IPv4Address]
    """(container, network) → its IPv4 address (central IPAM)."""
    observed: Mapping[str, HostState]
    """What each reachable host has now, and its facts (an overlay needs each host's
    underlay); a host missing here could not be observed, and is not planned."""
    _hosts: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    _pools: dict[str, Pool] = field(default_factory=dict, compare=False, repr=False)
    _gateways: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)
    _veths: dict[tuple[str, str], str] = field(default_factory=dict, compare=False, repr=False)

    def host_of(self, container: str) -> str:
        """Topology.host_of_container, worked out once per container: every driver and
        stage of a compile asks it again for each of the container's resources."""
        host = self._hosts.get(container)
        if host is None:
            host = self._hosts[container] = self.topology.host_of_container(container)
        return host

    def pool(self, network: str) -> Pool:
        """The network's address pool (ipam.network_pool), made once per compile: each
        attachment's gateway comes from it."""
        pool = self._pools.get(network)
        if pool is None:
            pool = self._pools[network] = network_pool(self.topology.networks[network])
        return pool

    def gateway_network(self, container: str) -> str | None:
        """Topology.gateway_network, worked out once per container (its default route,
        then the firewall's published ports)."""
        if container not in self._gateways:
            self._gateways[container] = self.topology.gateway_network(container)
        return self._gateways[container]

    def veth_name(self, container: str, network: str) -> str:
        """names.veth_name (a sha256), worked out once per attachment (its veth, then
        the firewall's ports of the bridge)."""
        name = self._veths.get((container, network))
        if name is None:
            name = self._veths[(container, network)] = veth_name(self.topology.name,
                                                                  container, network)
        return name


@dataclass(frozen=True)
class Link:
    """A container's interface on a network, as the compiler asks a driver to make it."""

    container: str
    network: str
    attachment: Attachment
    dev: str
    """Interface name inside the container: eth0, eth1, ... in the order of the file."""
    default_route: bool
    """The first network of a container that is not internal carries its default route."""


@dataclass(frozen=True)
class Driver:
    compile_network: Callable[[Context, str, Any], None]
    compile_attachment: Callable[[Context, Link], None]


def add_veth(context: Context, link: Link, bridge: str, mtu: int) -> None:
    """A container's veth on `bridge` and its address: what every bridged driver makes."""
    state = context.desired[context.host_of(link.container)]
    address = context.addresses[(link.container, link.network)]
    state.add(
        Veth(
            netns=link.container,
            name=link.dev,
            peer=context.veth_name(link.container, link.network),
            bridge=bridge,
            container=link.container,
            network=link.network,
            mac=link.attachment.mac or mac_for(address),
            mtu=mtu,
            peer_mtu=mtu,
        )
    )
    prefixlen = context.pool(link.network).subnet.prefixlen
    state.add(Address(link.container, link.dev, f"{address}/{prefixlen}"))
