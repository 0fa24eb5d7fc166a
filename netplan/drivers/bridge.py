"""Docker's bridge driver: a Linux bridge holding the gateway address; each container
gets a veth whose host end is a port of the bridge, its address and a default route."""

from __future__ import annotations

from netplan.agent.resources import ROOT, Address, Bridge, Route
from netplan.drivers.base import Context, Link, add_veth
from netplan.topology.model import BridgeNetwork
from netplan.topology.names import bridge_mac, bridge_name

DEFAULT_MTU = 1500
"""Docker's com.docker.network.driver.mtu default, for the bridge and its veths."""


def mtu(network: BridgeNetwork) -> int:
    return DEFAULT_MTU if network.mtu is None else network.mtu


def compile_network(context: Context, name: str, network: BridgeNetwork) -> None:
    topology = context.topology
    host = topology.host_of_network(name)
    state = context.desired[host]
    bridge = bridge_name(topology.name, name, network)
    state.add(Bridge(bridge, name, mtu(network), mac=bridge_mac(topology.name, name, host)))
    pool = context.pool(name)
    state.add(Address(ROOT, bridge, f"{pool.gateway}/{pool.subnet.prefixlen}"))


def compile_attachment(context: Context, link: Link) -> None:
    topology = context.topology
    network = topology.networks[link.network]
    assert isinstance(network, BridgeNetwork)
    add_veth(context, link, bridge_name(topology.name, link.network, network), mtu(network))
    if link.default_route:
        gateway = context.pool(link.network).gateway
        state = context.desired[context.host_of(link.container)]
        state.add(Route(link.container, "default", link.dev, str(gateway)))
