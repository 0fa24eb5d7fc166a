"""`checks:` across the file: the names they use exist, and a container target resolves.

`target_network` is also how `netplan verify` picks the address a container is probed at.
"""

from __future__ import annotations

from collections.abc import Iterator

from netplan.errors import Problem
from netplan.topology.model import BridgeNetwork, Topology
from netplan.topology.positions import dotted
from netplan.topology.reach import Source, parse_source, parse_target
from netplan.topology.wording import suggest


def namespace_owner(topology: Topology, container: str) -> str | None:
    """The container whose namespace `container` is in (itself, or the end of its
    `container:` chain); None in `host` mode, where it is in its host's namespace."""
    seen = {container}
    spec = topology.containers[container]
    while (shared := spec.shares_with) is not None and shared not in seen:
        seen.add(shared)
        container, spec = shared, topology.containers[shared]
    return None if spec.network_mode == "host" else container


def source_host(topology: Topology, source: Source) -> str:
    return source.name if source.is_host else topology.host_of_container(source.name)


def target_network(topology: Topology, source: Source, target: str) -> str | None:
    """The network whose address of `target` a probe from `source` aims at: the first
    network they share, else a bridge network of `target` on `source`'s host (reached
    through the host, preferring `target`'s default-route network); None if neither."""
    owner = namespace_owner(topology, target)
    if owner is None:
        return None
    networks = topology.containers[owner].networks
    if not source.is_host:
        own = namespace_owner(topology, source.name)
        if own is not None:
            shared = [n for n in topology.containers[own].networks if n in networks]
            if shared:
                return shared[0]
    host = source_host(topology, source)
    on_host = [
        n for n in networks
        if isinstance(topology.networks[n], BridgeNetwork) and topology.host_of_network(n) == host
    ]
    gateway = topology.gateway_network(owner)
    return gateway if gateway in on_host else next(iter(on_host), None)


def check_reachability_checks(topology: Topology) -> Iterator[Problem]:
    """Every `from` and `to` names a known container or host; container targets resolve."""
    for index, check in enumerate(topology.checks):
        source = parse_source(check.source)
        source_problem = _unknown_source(topology, source, dotted(("checks", index, "from")))
        if source_problem is not None:
            yield source_problem
        target = parse_target(check.to)
        if target.container is None:
            continue
        to_path = dotted(("checks", index, "to"))
        if target.container not in topology.containers:
            yield _unknown_container(topology, target.container, to_path)
        elif source_problem is None and target_network(topology, source, target.container) is None:
            yield Problem(
                f"container '{target.container}' has no address '{source}' can be "
                "probed at: they share no network, and it is on no bridge network of "
                f"host '{source_host(topology, source)}'",
                to_path,
                "write the address to probe instead of the container's name",
            )


def _unknown_source(topology: Topology, source: Source, path: str) -> Problem | None:
    if not source.is_host:
        known = source.name in topology.containers
        return None if known else _unknown_container(topology, source.name, path)
    if source.name in topology.hosts:
        return None
    return Problem(f"unknown host '{source.name}'", path,
                   suggest(source.name, topology.hosts, "hosts"))


def _unknown_container(topology: Topology, name: str, path: str) -> Problem:
    if name in topology.hosts:
        hint = f"'{name}' is a host: write 'host:{name}' to probe from the host itself"
    else:
        hint = suggest(name, topology.containers, "containers")
    return Problem(f"unknown container '{name}'", path, hint)
