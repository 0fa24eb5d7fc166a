"""Subnets for the bridge and overlay networks that give none, from Docker's default
address pools. Central, deterministic and sticky, like every other allocation. Pure.

The pools are Docker's, as moby's daemon/libnetwork/ipamutils/utils.go declares them
(`localScopeDefaultNetworks`, `globalScopeDefaultNetworks`): local scope (bridge)
172.17.0.0/16, 172.18.0.0/16, 172.19.0.0/16, then 172.20.0.0/14, 172.24.0.0/14 and
172.28.0.0/14 split into /16s, then 192.168.0.0/16 split into /20s; global scope
(overlay) 10.0.0.0/8 split into /24s.

Order: the file's explicit subnets are taken first. Then every subnet-less network that
has a subnet on its host(s) now (its bridge's address, else a container's) keeps it, in
file order, if it overlaps nothing taken so far nor the host's own prefixes (addresses
of links the topology does not own, Facts.prefixes). The rest take, in file order, the
first pool that overlaps none of those, nor the subnets already given, nor what Docker
reserves on the host (Facts.reserved: the nameservers of its /etc/resolv.conf and the
destinations of its on-link routes, as moby's `InferReservedNetworks`). A reserved
prefix does not move a network that has its subnet already: Docker reserves them only
when it picks a pool, and never renumbers an existing network. An overlay's subnet is
free on every host it spans. Every network of the file gets a subnet of its own, across
hosts.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Literal

from netplan.agent.resources import ROOT, Address, Bridge, Veth
from netplan.agent.state import HostState
from netplan.errors import Problem, TopologyError
from netplan.topology.model import OverlayNetwork, Topology

Scope = Literal["local", "global"]

LOCAL_SCOPE: tuple[tuple[str, int], ...] = (
    ("172.17.0.0/16", 16), ("172.18.0.0/16", 16), ("172.19.0.0/16", 16),
    ("172.20.0.0/14", 16), ("172.24.0.0/14", 16), ("172.28.0.0/14", 16),
    ("192.168.0.0/16", 20),
)
"""Docker's localScopeDefaultNetworks: (base, size of each pool): bridge networks."""
GLOBAL_SCOPE: tuple[tuple[str, int], ...] = (("10.0.0.0/8", 24),)
"""Docker's globalScopeDefaultNetworks: overlay networks."""
POOLS: dict[Scope, tuple[tuple[str, int], ...]] = {"local": LOCAL_SCOPE, "global": GLOBAL_SCOPE}


def pools(scope: Scope) -> Iterator[IPv4Network]:
    """The scope's pools in Docker's order, made one at a time (global has 65536)."""
    for base, size in POOLS[scope]:
        yield from IPv4Network(base).subnets(new_prefix=size)


@dataclass(frozen=True)
class Wanted:
    """A network without `subnet:`: where it lives and the subnet it has there now."""

    name: str
    scope: Scope
    hosts: tuple[str, ...]
    current: IPv4Network | None = None


class PoolsExhaustedError(ValueError):
    def __init__(self, network: str, scope: Scope) -> None:
        super().__init__(f"no free subnet left in Docker's {scope}-scope default pools "
                         f"for network {network!r}")
        self.network = network


class Taken:
    """Address intervals, merged and sorted: whether a subnet overlaps any is a bisect."""

    def __init__(self, subnets: Sequence[IPv4Network] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for subnet in subnets:
            self.add(subnet)

    def overlaps(self, subnet: IPv4Network) -> bool:
        low, high = _bounds(subnet)
        index = bisect_right(self._starts, high) - 1
        return index >= 0 and self._ends[index] >= low

    def add(self, subnet: IPv4Network) -> None:
        low, high = _bounds(subnet)
        first = bisect_right(self._ends, low - 1)  # the first interval not wholly below
        last = bisect_right(self._starts, high + 1)  # past the last one touching it
        if first < last:
            low = min(low, self._starts[first])
            high = max(high, self._ends[last - 1])
        self._starts[first:last] = [low]
        self._ends[first:last] = [high]


def _bounds(subnet: IPv4Network) -> tuple[int, int]:
    return int(subnet.network_address), int(subnet.broadcast_address)


def choose_subnets(
    wanted: Sequence[Wanted], explicit: Sequence[IPv4Network],
    host_prefixes: Mapping[str, Sequence[IPv4Network]],
    reserved: Mapping[str, Sequence[IPv4Network]] | None = None,
) -> dict[str, IPv4Network]:  # fmt: skip
    """The subnet of every wanted network (see the module's docstring); `reserved` by
    host keeps pools out, not current subnets. Each pool is looked at once per scope and
    set of hosts: O(networks), not O(networks * pools)."""
    taken = Taken(explicit)
    on_host = {host: Taken(prefixes) for host, prefixes in host_prefixes.items()}
    kept_out = {host: Taken([*host_prefixes.get(host, ()), *prefixes])
                for host, prefixes in (reserved or {}).items()}

    def free(network: Wanted, subnet: IPv4Network,
             hosts: Mapping[str, Taken]) -> bool:  # fmt: skip
        return not taken.overlaps(subnet) and not any(
            hosts[host].overlaps(subnet) for host in network.hosts if host in hosts)

    pooled = {**on_host, **kept_out}
    chosen: dict[str, IPv4Network] = {}
    for network in wanted:
        if network.current is not None and free(network, network.current, on_host):
            chosen[network.name] = network.current
            taken.add(network.current)
    cursors: dict[tuple[Scope, tuple[str, ...]], Iterator[IPv4Network]] = {}
    for network in wanted:
        if network.name in chosen:
            continue
        cursor = cursors.setdefault((network.scope, network.hosts), pools(network.scope))
        subnet = next((s for s in cursor if free(network, s, pooled)), None)
        if subnet is None:
            raise PoolsExhaustedError(network.name, network.scope)
        chosen[network.name] = subnet
        taken.add(subnet)
    return {network.name: chosen[network.name] for network in wanted}


def observed_subnets(state: HostState, networks: Collection[str]) -> dict[str, IPv4Network]:
    """The subnet each of `networks` has on a host now: its bridge's address (a bridge
    network's gateway), else the address of one of its containers (an overlay's bridge
    holds none). One walk of the host's resources."""
    cidrs: dict[tuple[str, str], str] = {}
    bridges: list[tuple[str, tuple[str, str]]] = []
    veths: list[tuple[str, tuple[str, str]]] = []
    for resource in state.resources.values():
        if isinstance(resource, Address) and ":" not in resource.cidr:
            cidrs.setdefault((resource.netns, resource.dev), resource.cidr)
        elif isinstance(resource, Bridge) and resource.network in networks:
            bridges.append((resource.network, (ROOT, resource.name)))
        elif isinstance(resource, Veth) and resource.network in networks:
            veths.append((resource.network, (resource.netns, resource.name)))
    found: dict[str, IPv4Network] = {}
    for network, link in (*bridges, *veths):
        if network not in found and link in cidrs:
            found[network] = IPv4Network(cidrs[link], strict=False)
    return found


def pool_networks(topology: Topology) -> list[str]:
    """The networks that take their subnet from the pools: those without `subnet:`."""
    return [name for name, network in topology.networks.items() if network.subnet is None]


def pool_hosts(topology: Topology) -> set[str]:
    """The hosts of those networks: their observation reports Facts.reserved."""
    return {host for name in pool_networks(topology) for host in topology.hosts_of_network(name)}


def with_pool_subnets(topology: Topology, observed: Mapping[str, HostState]) -> Topology:
    """`topology` with a subnet on every network, from the default pools where the file
    gives none (itself when it gives all). TopologyError when the pools run out."""
    missing = pool_networks(topology)
    if not missing:
        return topology
    current: dict[str, IPv4Network] = {}
    for state in observed.values():
        for network, subnet in observed_subnets(state, set(missing)).items():
            current.setdefault(network, subnet)
    wanted = [Wanted(name, "global" if isinstance(topology.networks[name], OverlayNetwork)
                     else "local", tuple(topology.hosts_of_network(name)), current.get(name))
              for name in missing]
    explicit = [n.subnet for n in topology.networks.values() if n.subnet is not None]
    prefixes = {host: [IPv4Network(cidr, strict=False) for cidr in state.facts.prefixes]
                for host, state in observed.items()}
    reserved = {host: [IPv4Network(cidr, strict=False) for cidr in state.facts.reserved or ()]
                for host, state in observed.items()}
    try:
        chosen = choose_subnets(wanted, explicit, prefixes, reserved)
    except PoolsExhaustedError as exc:
        raise TopologyError([Problem(
            str(exc), path=f"networks.{exc.network}",
            hint="give the network a `subnet:` of its own, or remove networks")]) from None
    networks = {name: network.model_copy(update={"subnet": chosen[name]}) if name in chosen
                else network for name, network in topology.networks.items()}
    return topology.model_copy(update={"networks": networks})
