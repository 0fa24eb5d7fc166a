"""Docker's macvlan driver: each container on the network gets a macvlan interface of the
network's `parent` (a host interface) inside its namespace, with its address, its MAC
(02:42 + the IPv4 address, as Docker derives it) and, when the network is its routed one
and has a gateway (a router on the LAN), its default route. No NAT, no firewall rules.

The parent must exist on the host, or be `X.N` with X existing: then netplan makes the
802.1Q VLAN link and removes it when no network uses it any more. The host's agent reports
which parents exist (HostState.facts.interfaces), so a missing one is a TopologyError
before anything is changed.
"""

from __future__ import annotations

import re

from netplan.agent.resources import ROOT, Address, Macvlan, Route, Vlan, link_key
from netplan.agent.state import HostState
from netplan.drivers.base import Context, Link
from netplan.errors import Problem, TopologyError
from netplan.ipam import mac_for
from netplan.topology.model import MacvlanNetwork, Topology

VLAN_NAME = re.compile(r"(?P<dev>.+)\.(?P<id>[0-9]+)")
VLAN_IDS = range(1, 4095)
PARENT_HINT = ("create it first, or set `parent:` to an existing interface "
               "(or to X.N for a VLAN of an existing interface X)")


def vlan_of(parent: str) -> tuple[str, int] | None:
    """(X, N) for a parent named `X.N` with N a valid 802.1Q id; else None."""
    match = VLAN_NAME.fullmatch(parent)
    if match is None or int(match["id"]) not in VLAN_IDS:
        return None
    return match["dev"], int(match["id"])


def interfaces_of(topology: Topology, host: str) -> list[str]:
    """The interfaces the agent of `host` must report on: every macvlan parent there,
    and the interface X of a parent named X.N."""
    names: list[str] = []
    for name, network in topology.networks.items():
        if isinstance(network, MacvlanNetwork) and topology.host_of_network(name) == host:
            vlan = vlan_of(network.parent)
            names += [network.parent, *([vlan[0]] if vlan else [])]
    return list(dict.fromkeys(names))


def compile_network(context: Context, name: str, network: MacvlanNetwork) -> None:
    """The VLAN link the parent needs, if netplan makes (or made) it."""
    host = context.topology.host_of_network(name)
    observed = context.observed.get(host)
    if observed is None:
        return  # the host could not be observed: nothing is planned there
    vlan = parent_vlan(name, network, host, observed)
    state = context.desired[host]
    if vlan is not None and vlan.key not in state.resources:
        state.add(vlan)


def parent_vlan(name: str, network: MacvlanNetwork, host: str,
                observed: HostState) -> Vlan | None:
    """The VLAN link netplan keeps or makes as the parent; None for an existing
    interface that is not ours; a TopologyError for a parent that cannot be."""
    parent = network.parent
    path = f"networks.{name}.parent"
    ours = observed.resources.get(link_key(ROOT, parent))
    if isinstance(ours, Vlan):
        return Vlan(ours.name, name, ours.dev, ours.vlan_id)
    existing = observed.facts.interfaces
    if parent in existing:
        mtu = existing[parent].mtu
        if network.mtu is not None and network.mtu > mtu:
            raise TopologyError([Problem(
                f"macvlan '{name}' needs an MTU of {network.mtu}, but its parent {parent} "
                f"on host '{host}' has MTU {mtu}",
                f"networks.{name}.mtu",
                "lower `mtu:` to at most the parent's, or leave it out",
            )])
        return None
    vlan = vlan_of(parent)
    if vlan is None or vlan[0] not in existing:
        raise TopologyError([Problem(
            f"host '{host}' has no interface '{parent}' (the parent of macvlan '{name}')",
            path, PARENT_HINT)])
    if not observed.facts.vlan_support:
        raise TopologyError([Problem(
            f"host '{host}' has no interface '{parent}' (the parent of macvlan '{name}'), "
            "and its kernel cannot make 802.1Q VLAN links (CONFIG_VLAN_8021Q)",
            path, "load the 8021q module, or set `parent:` to an existing interface")])
    return Vlan(parent, name, vlan[0], vlan[1])


def compile_attachment(context: Context, link: Link) -> None:
    """A macvlan in the container's namespace, its address, and its default route."""
    topology = context.topology
    network = topology.networks[link.network]
    assert isinstance(network, MacvlanNetwork)
    state = context.desired[context.host_of(link.container)]
    address = context.addresses[(link.container, link.network)]
    passthru = network.mode == "passthru"
    state.add(
        Macvlan(
            netns=link.container,
            name=link.dev,
            lower=network.parent,
            mode=network.mode,
            container=link.container,
            network=link.network,
            mac=None if passthru else link.attachment.mac or mac_for(address),
            mtu=network.mtu,
        )
    )
    state.add(Address(link.container, link.dev, f"{address}/{network.subnet.prefixlen}"))
    if link.default_route and network.gateway is not None:
        state.add(Route(link.container, "default", link.dev, str(network.gateway)))
