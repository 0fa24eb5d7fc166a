"""Rules that look across the whole file, run once its structure is valid.

Each check yields problems with a dotted path; the loader adds file, line and column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from netplan.errors import Problem
from netplan.firewall.checks import (
    check_publish_modes,
    check_published_twice,
    warn_publish_in_host_mode,
)
from netplan.topology.address_checks import (
    check_addresses,
    check_capacity,
    check_gateways,
    check_ip_ranges,
    check_macs,
    check_pool_subnets,
    check_subnet_overlaps,
)
from netplan.topology.macvlan_checks import (
    check_passthru,
    check_shared_parents,
    warn_publish_on_macvlan,
)
from netplan.topology.model import MacvlanNetwork, OverlayNetwork, Topology
from netplan.topology.names import bridge_name
from netplan.topology.positions import dotted
from netplan.topology.process_checks import check_hostname_mode, check_process_fields
from netplan.topology.reach_checks import check_reachability_checks
from netplan.topology.special_ranges import check_special_subnets
from netplan.topology.wording import suggest

Check = Callable[[Topology], Iterator[Problem]]


def check_topology(topology: Topology) -> list[Problem]:
    """Every problem every check finds, in the order of CHECKS."""
    return [problem for check in CHECKS for problem in check(topology)]


def topology_warnings(topology: Topology) -> list[Problem]:
    """What is accepted but ignored (as Docker ignores it), in the order of WARNINGS."""
    return [problem for check in WARNINGS for problem in check(topology)]


def check_hosts(topology: Topology) -> Iterator[Problem]:
    """`host:` names a host, and is required once there is more than one."""
    several = len(topology.hosts) > 1
    kinds = (("networks", topology.networks), ("containers", topology.containers))
    for kind, items in kinds:
        for name, item in items.items():
            if isinstance(item, OverlayNetwork):
                continue  # it spans hosts: check_overlay_hosts
            if item.host is not None and item.host not in topology.hosts:
                yield Problem(
                    f"unknown host '{item.host}'",
                    dotted((kind, name, "host")),
                    suggest(item.host, topology.hosts, "hosts"),
                )
            if not several or item.host is not None:
                continue
            if kind == "containers" and topology.containers[name].shares_with:
                continue  # on the host of the container it shares
            yield Problem(
                f"{kind[:-1]} '{name}' needs `host:`: the topology has several hosts",
                dotted((kind, name)),
                "add `host:` with one of " + ", ".join(topology.hosts),
            )


def check_overlay_hosts(topology: Topology) -> Iterator[Problem]:
    """An overlay's `hosts:` are hosts of the topology, and hold its containers."""
    for name, network in topology.networks.items():
        if not isinstance(network, OverlayNetwork) or network.hosts is None:
            continue
        for index, host in enumerate(network.hosts):
            if host not in topology.hosts:
                yield Problem(
                    f"unknown host '{host}'",
                    dotted(("networks", name, "hosts", index)),
                    suggest(host, topology.hosts, "hosts"),
                )
        for container, spec in topology.containers.items():
            host = topology.host_of_container(container)
            if name in spec.networks and host in topology.hosts and host not in network.hosts:
                yield Problem(
                    f"overlay '{name}' does not span host '{host}', where container "
                    f"'{container}' is",
                    dotted(("containers", container, "networks", name)),
                    f"add '{host}' to networks.{name}.hosts, or leave `hosts:` out",
                )


def check_vnis(topology: Topology) -> Iterator[Problem]:
    """Two overlays cannot share a VNI (their traffic would mix)."""
    owners: dict[int, str] = {}
    for name, network in topology.networks.items():
        if not isinstance(network, OverlayNetwork) or network.vni is None:
            continue
        first = owners.setdefault(network.vni, name)
        if first != name:
            yield Problem(
                f"VNI {network.vni} is also the VNI of overlay '{first}'",
                dotted(("networks", name, "vni")),
                "give each overlay a VNI of its own, or leave `vni:` out",
            )


def check_network_references(topology: Topology) -> Iterator[Problem]:
    """Attached networks exist and are on the container's host (bridges are per host)."""
    hosts = {name: topology.host_of_network(name) for name, network in topology.networks.items()
             if not isinstance(network, OverlayNetwork)}  # fmt: skip
    """The host of each network but overlays (which span hosts: check_overlay_hosts)."""
    for name, container in topology.containers.items():
        host = topology.host_of_container(name)
        for network in container.networks:
            if network not in topology.networks:
                yield Problem(
                    f"unknown network '{network}'",
                    _attachment(name, network),
                    suggest(network, topology.networks, "networks"),
                )
                continue
            network_host = hosts.get(network)
            if network_host is None:
                continue
            if host != network_host and host in topology.hosts and network_host in topology.hosts:
                yield Problem(
                    f"network '{network}' is on host '{network_host}', "
                    f"but container '{name}' is on host '{host}'",
                    _attachment(name, network),
                    "bridge networks are per host: attach it to a network on its own host",
                )


def _attachment(container: str, network: str) -> str:
    """The path of a container's attachment to a network; made only for a problem (a
    path per attachment costs milliseconds at 1,000 containers)."""
    return dotted(("containers", container, "networks", network))


def check_network_modes(topology: Topology) -> Iterator[Problem]:
    """`network_mode` excludes `networks`; `container:X` names a container on the same host."""
    for name, container in topology.containers.items():
        if container.network_mode is None:
            continue
        path = dotted(("containers", name, "network_mode"))
        if container.networks:
            yield Problem(
                f"network_mode '{container.network_mode}' cannot be combined with networks",
                path,
                "remove `networks:`, or remove `network_mode:`",
            )
        target = container.shares_with
        if target is None or target == name:
            continue
        if target not in topology.containers:
            yield Problem(
                f"unknown container '{target}'",
                path,
                suggest(target, topology.containers, "containers"),
            )
            continue
        own_host, target_host = container.host, topology.host_of_container(target)
        if own_host is not None and own_host != target_host:
            yield Problem(
                f"container '{target}' is on host '{target_host}', not on '{own_host}'",
                path,
                "a namespace can only be shared on one host",
            )


def check_sharing_cycles(topology: Topology) -> Iterator[Problem]:
    """`container:` chains end in a container with a namespace of its own."""
    walked: dict[str, bool] = {}
    """Container → whether it is on the walk in progress."""
    for start, container in topology.containers.items():
        if container.shares_with is None:
            continue  # a namespace of its own: no chain starts here
        walk: list[str] = []
        name: str | None = start
        while name in topology.containers and name not in walked:
            walked[name] = True
            walk.append(name)
            name = topology.containers[name].shares_with
        if name is not None and walked.get(name):
            cycle = walk[walk.index(name) :]
            yield Problem(
                "network_mode cycle: " + " → ".join([*cycle, name]),
                dotted(("containers", cycle[0], "network_mode")),
                "one container of the cycle must have a namespace of its own",
            )
        walked.update(dict.fromkeys(walk, False))


def check_bridge_names(topology: Topology) -> Iterator[Problem]:
    """Two networks on one host cannot have the same bridge (given or default name)."""
    owners: dict[tuple[str, str], str] = {}
    for name, network in topology.networks.items():
        if isinstance(network, MacvlanNetwork):
            continue  # no bridge
        bridge = bridge_name(topology.name, name, network)
        for host in topology.hosts_of_network(name):
            first = owners.setdefault((host, bridge), name)
            if first != name:
                yield Problem(
                    f"bridge '{bridge}' is also the bridge of network '{first}' on host '{host}'",
                    dotted(("networks", name, "bridge") if network.bridge else ("networks", name)),
                    "set `bridge:` to a name of its own",
                )
                break


def check_aliases(topology: Topology) -> Iterator[Problem]:
    """An alias may not be the name of another container on the same network."""
    for name, container in topology.containers.items():
        for network, attachment in container.networks.items():
            for index, alias in enumerate(attachment.aliases):
                other = topology.containers.get(alias)
                if alias != name and other is not None and network in other.networks:
                    yield Problem(
                        f"alias '{alias}' is the name of another container on network '{network}'",
                        dotted(("containers", name, "networks", network, "aliases", index)),
                        "names on a network must be unique: choose another alias",
                    )


CHECKS: tuple[Check, ...] = (
    check_hosts,
    check_overlay_hosts,
    check_network_references,
    check_network_modes,
    check_sharing_cycles,
    check_special_subnets,
    check_pool_subnets,
    check_ip_ranges,
    check_gateways,
    check_addresses,
    check_macs,
    check_subnet_overlaps,
    check_bridge_names,
    check_vnis,
    check_aliases,
    check_capacity,
    check_publish_modes,
    check_published_twice,
    check_passthru,
    check_shared_parents,
    check_reachability_checks,
    check_hostname_mode,
    check_process_fields,
)

WARNINGS: tuple[Check, ...] = (warn_publish_in_host_mode, warn_publish_on_macvlan)
