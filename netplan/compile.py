"""Compile a topology into the desired state of each host (IPs, MACs and names decided here).

Pure: the observed state is an input only so that allocation is sticky (an address a
container was given stays its address when the file grows or is reordered: the one in
each host's last-applied record, Facts.addresses, else the one it has now; a network
without `subnet:` keeps the one it has: netplan/subnet_pools.py). What a network and an
attachment become is each driver's business (netplan/drivers/).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from ipaddress import IPv4Address, IPv4Network

from netplan.agent.resources import Netns
from netplan.agent.state import HostState
from netplan.attachments import current_addresses
from netplan.drivers import DRIVERS
from netplan.drivers.base import Context, Link
from netplan.drivers.macvlan import interfaces_of
from netplan.errors import Problem, TopologyError
from netplan.etchosts import compile_hosts_files
from netplan.firewall.compile import compile_firewall, published_on
from netplan.ipam import AddressInUseError, ExhaustedError, InUse, Request, allocate, network_pool
from netplan.outline import HostOutline, Outline
from netplan.processes import compile_processes, volume_paths
from netplan.subnet_pools import pool_hosts, pool_networks, with_pool_subnets
from netplan.topology.model import Topology


def recorded_addresses(
    observed: HostState, parse: Callable[[str], IPv4Address] = IPv4Address
) -> dict[tuple[str, str], IPv4Address]:
    """IPv4 address of each (container, network) at the last apply on the host, as its
    agent keeps them beside the last-applied record (Facts.addresses); unreadable entries
    are left out, so their attachments fall back to the address they have now."""
    recorded: dict[tuple[str, str], IPv4Address] = {}
    for container, networks in observed.facts.addresses.items():
        for network, text in networks.items():
            try:
                recorded[(container, network)] = parse(text)
            except ValueError:
                continue
    return recorded


def assign_addresses(
    topology: Topology, observed: Mapping[str, HostState]
) -> dict[tuple[str, str], IPv4Address]:
    """Address of every (container, network) attachment, for all hosts at once."""
    return _assign(with_pool_subnets(topology, observed), set(pool_networks(topology)), observed)


def _assign(topology: Topology, pooled: set[str], observed: Mapping[str, HostState]
            ) -> dict[tuple[str, str], IPv4Address]:  # fmt: skip
    """assign_addresses, for `topology` with every subnet filled in; `pooled` are the
    networks whose subnet came from the default pools."""
    current: dict[tuple[str, str], IPv4Address] = {}
    recorded: dict[tuple[str, str], IPv4Address] = {}
    parse = cache(IPv4Address)  # the record and the links name mostly the same addresses
    for state in observed.values():
        current.update(current_addresses(state, parse))
        recorded.update(recorded_addresses(state, parse))
    result: dict[tuple[str, str], IPv4Address] = {}
    problems: list[Problem] = []
    for net_name, network in topology.networks.items():
        requests = [
            Request(name, container.networks[net_name].ipv4)
            for name, container in topology.containers.items()
            if net_name in container.networks
        ]
        kept = {c: a for (c, n), a in current.items() if n == net_name}
        applied = {c: a for (c, n), a in recorded.items() if n == net_name}
        try:
            assigned = allocate(network_pool(network), requests, kept, applied)
        except ExhaustedError as exc:
            problems.append(_exhausted(net_name, network.subnet, net_name in pooled, exc))
            continue
        except AddressInUseError as exc:
            problems += [_in_use(net_name, clash) for clash in exc.clashes]
            continue
        result.update({(c, net_name): a for c, a in assigned.items()})
    if problems:
        raise TopologyError(problems)
    return result


def _exhausted(network: str, subnet: IPv4Network | None, pooled: bool,
               exc: ExhaustedError) -> Problem:
    if pooled:  # the file has no `subnet:` to point at
        return Problem(f"network has no free addresses left: {exc}; its subnet {subnet} is "
                       "one of Docker's default pools", path=f"networks.{network}",
                       hint="give the network a `subnet:` large enough for its containers")
    return Problem(f"network has no free addresses left: {exc}",
                   path=f"networks.{network}.subnet", hint="use a larger subnet or ip_range")


def _in_use(network: str, clash: InUse) -> Problem:
    """At the static address: Docker refuses it ("Address already in use"), and
    renumbering the running container would break whoever talks to it."""
    holder = (f"the last apply gave it to container '{clash.holder}'" if clash.recorded
              else f"container '{clash.holder}' has it (no last apply recorded it)")
    return Problem(
        f"address {clash.address} is already in use: {holder}, which keeps it",
        path=f"containers.{clash.container}.networks.{network}.ipv4",
        hint=f"choose another address, give '{clash.holder}' a static address too, or "
             f"remove '{clash.holder}' from the file",
    )


def compile_topology(topology: Topology, observed: Mapping[str, HostState]) -> dict[str, HostState]:
    """The desired state of every host named in the topology."""
    pooled = set(pool_networks(topology))
    topology = with_pool_subnets(topology, observed)
    context = Context(
        topology,
        desired={host: HostState() for host in topology.hosts},
        addresses=_assign(topology, pooled, observed),
        observed=observed,
    )
    for net_name, network in topology.networks.items():
        DRIVERS[network.driver].compile_network(context, net_name, network)
    for name, container in topology.containers.items():
        if container.network_mode == "host" or container.shares_with:
            continue
        context.desired[context.host_of(name)].add(Netns(name))
        gateway = context.gateway_network(name)
        for index, (net_name, attachment) in enumerate(container.networks.items()):
            link = Link(name, net_name, attachment, f"eth{index}", net_name == gateway)
            DRIVERS[topology.networks[net_name].driver].compile_attachment(context, link)
    compile_firewall(context)
    compile_hosts_files(context)
    compile_processes(context)
    return context.desired


def outline_of(topology: Topology) -> Outline:
    """What the stages other than compiling need of the topology (netplan/outline.py)."""
    from_pools = pool_hosts(topology)
    return Outline(topology.name, {
        name: _host_outline(topology, name, spec.underlay, name in from_pools)
        for name, spec in topology.hosts.items()
    })


def _host_outline(topology: Topology, host: str, underlay: str | None,
                  from_pools: bool) -> HostOutline:
    published = published_on(topology, host)
    return HostOutline(underlay, tuple(interfaces_of(topology, host)),
                       tuple(volume_paths(topology, host)), bool(published),
                       any(mapping.host_ip is not None for mapping in published),
                       from_pools)
