"""Address rules: ranges and gateways inside subnets, static addresses and MACs unique.

Which addresses are usable and which one is the default gateway is decided by
`netplan.ipam` (Docker's rules); these checks only explain, per field, why a written
address cannot work.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network

from netplan.errors import Problem
from netplan.ipam import ExhaustedError, dynamic_capacity, network_pool
from netplan.topology.model import Attachment, Network, Topology
from netplan.topology.positions import dotted


def unusable(address: IPv4Address, subnet: IPv4Network) -> str | None:
    """Why `address` cannot be given to an interface on `subnet`, or None if it can."""
    if address not in subnet:
        return f"outside the subnet {subnet}"
    if address == subnet.network_address:
        return f"the network address of {subnet}"
    if address == subnet.broadcast_address and subnet.prefixlen < 31:
        return f"the broadcast address of {subnet}"
    return None


def with_subnets(topology: Topology) -> Iterator[tuple[str, Network, IPv4Network]]:
    """Each network the file gives a subnet, with it: the others get theirs when
    compiled (netplan.subnet_pools), and check_pool_subnets checks them."""
    for name, network in topology.networks.items():
        if network.subnet is not None:
            yield name, network, network.subnet


def default_gateway(network: Network, subnet: IPv4Network) -> IPv4Address | None:
    """The bridge's address: the given gateway, else the first usable one of the pool."""
    if network.ip_range is not None and not network.ip_range.subnet_of(subnet):
        return network.gateway  # the pool makes no sense; check_ip_ranges reports it
    try:
        return network_pool(network).gateway
    except ExhaustedError:
        return None


def attachments(topology: Topology) -> dict[str, list[tuple[str, Attachment]]]:
    """Network → (container, attachment) of each container on it, in file order."""
    members: dict[str, list[tuple[str, Attachment]]] = {name: [] for name in topology.networks}
    for name, container in topology.containers.items():
        for network, attachment in container.networks.items():
            members.setdefault(network, []).append((name, attachment))
    return members


def check_pool_subnets(topology: Topology) -> Iterator[Problem]:
    """A network without `subnet:` takes no `ip_range`, `gateway` or static `ipv4`, as
    Docker refuses them ("user specified IP address is supported only when connecting
    to networks with user configured subnets"): its subnet is not known before it is
    chosen from the pools."""
    members = attachments(topology)
    for name, network in topology.networks.items():
        if network.subnet is not None:
            continue
        given: list[tuple[tuple[str, ...], str]] = [
            (("networks", name, field), f"{field} {value}")
            for field, value in (("ip_range", network.ip_range), ("gateway", network.gateway))
            if value is not None]
        given += [(("containers", container, "networks", name, "ipv4"), f"static ipv4 {a.ipv4}")
                  for container, a in members[name] if a.ipv4 is not None]
        for path, what in given:
            yield Problem(
                f"{what} needs a subnet, and network '{name}' gives none (Docker: user "
                "specified IP address is supported only when connecting to networks with "
                "user configured subnets)",
                dotted(path),
                f"add `subnet:` to network '{name}', or leave `{path[-1]}:` out",
            )


def check_ip_ranges(topology: Topology) -> Iterator[Problem]:
    for name, network, subnet in with_subnets(topology):
        if network.ip_range is not None and not network.ip_range.subnet_of(subnet):
            yield Problem(
                f"ip_range {network.ip_range} is not inside the subnet {subnet}",
                dotted(("networks", name, "ip_range")),
                f"pick a range within {subnet}",
            )


def check_gateways(topology: Topology) -> Iterator[Problem]:
    for name, network, subnet in with_subnets(topology):
        if network.gateway is None:
            continue
        reason = unusable(network.gateway, subnet)
        if reason:
            yield Problem(
                f"gateway {network.gateway} is {reason}",
                dotted(("networks", name, "gateway")),
                "pick an address of the subnet, or leave `gateway:` out",
            )


def check_addresses(topology: Topology) -> Iterator[Problem]:
    """Static `ipv4`: usable on the subnet (`ip_range` need not hold it, as in Docker),
    not the gateway, and not taken by another container on the same network."""
    members = attachments(topology)
    for net_name, network, subnet in with_subnets(topology):
        gateway = default_gateway(network, subnet)
        owners: dict[IPv4Address, str] = {}
        for name, attachment in members[net_name]:
            address = attachment.ipv4
            if address is None:
                continue
            path = dotted(("containers", name, "networks", net_name, "ipv4"))
            reason = unusable(address, subnet)
            if reason:
                yield Problem(
                    f"{address} is {reason} (network '{net_name}')",
                    path,
                    f"give {'an' if address not in subnet else 'another'} address "
                    f"inside {subnet}{_ASSIGNED}",
                )
            elif address == gateway:
                yield Problem(
                    f"{address} is the gateway of network '{net_name}'",
                    path,
                    "the gateway is the bridge's own address: pick another one",
                )
            elif address in owners:
                yield Problem(
                    f"{address} is also the address of container '{owners[address]}' "
                    f"on network '{net_name}'",
                    path,
                    f"give each container an address of its own{_ASSIGNED}",
                )
            else:
                owners[address] = name


_ASSIGNED = ", or leave `ipv4:` out to have one assigned"


def check_macs(topology: Topology) -> Iterator[Problem]:
    """A static MAC appears once in the whole topology."""
    owners: dict[str, str] = {}
    for name, container in topology.containers.items():
        for net_name, attachment in container.networks.items():
            if attachment.mac is None:
                continue
            path = dotted(("containers", name, "networks", net_name))
            first = owners.setdefault(attachment.mac, path)
            if first != path:
                yield Problem(
                    f"MAC {attachment.mac} is also the MAC of {first}",
                    path + ".mac",
                    "each interface needs a MAC address of its own",
                )


def check_subnet_overlaps(topology: Topology) -> Iterator[Problem]:
    """Networks on one host need separate subnets (the host routes to each bridge, and
    a container on two networks to each); an overlay is on each of its hosts."""
    seen: list[tuple[str, str, IPv4Network]] = []
    for name, _, subnet in with_subnets(topology):
        hosts = topology.hosts_of_network(name)
        clash = next(
            (other for other in seen if other[0] in hosts and other[2].overlaps(subnet)),
            None,
        )
        if clash is not None:
            yield Problem(
                f"subnet {subnet} overlaps {clash[2]}, the subnet of network "
                f"'{clash[1]}' on host '{clash[0]}'",
                dotted(("networks", name, "subnet")),
                "give each network on a host a subnet of its own",
            )
        seen += [(host, name, subnet) for host in hosts]


def check_capacity(topology: Topology) -> Iterator[Problem]:
    """The pool has a free address for every container on the network without a static one."""
    members = attachments(topology)
    for net_name, network, subnet in with_subnets(topology):
        where = "ip_range" if network.ip_range is not None else "subnet"
        path = dotted(("networks", net_name, where))
        if network.ip_range is not None and not network.ip_range.subnet_of(subnet):
            continue
        try:
            pool = network_pool(network)
        except ExhaustedError:
            yield Problem("the network has no usable address for its gateway", path,
                          f"use a larger {where}")
            continue
        statics = [a.ipv4 for _, a in members[net_name] if a.ipv4 is not None]
        wanting = sum(1 for _, a in members[net_name] if a.ipv4 is None)
        free = dynamic_capacity(pool, statics)
        if wanting > free:
            yield Problem(
                f"network '{net_name}' has no free addresses left: {wanting} containers need "
                f"one, the {where} has {free}",
                path,
                f"use a larger {where}, or fewer containers on this network",
            )
