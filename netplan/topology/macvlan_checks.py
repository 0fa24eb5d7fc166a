"""Checks of macvlan networks across the file (run by netplan/topology/checks.py).

What the kernel refuses: a passthru macvlan takes its parent whole (one macvlan, with
the parent's MAC: no other macvlan on that parent, and a MAC of its own would change
the parent's). Whether a parent exists is known only from the host (drivers/macvlan.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from netplan.errors import Problem
from netplan.topology.model import MacvlanNetwork, Topology
from netplan.topology.positions import dotted


def _macvlans(topology: Topology) -> dict[str, MacvlanNetwork]:
    return {n: net for n, net in topology.networks.items() if isinstance(net, MacvlanNetwork)}


def check_passthru(topology: Topology) -> Iterator[Problem]:
    """One container on a passthru network, without a `mac:` of its own."""
    for name, network in _macvlans(topology).items():
        if network.mode != "passthru":
            continue
        members = [c for c, spec in topology.containers.items() if name in spec.networks]
        for container in members[1:]:
            yield Problem(
                f"macvlan '{name}' is in passthru mode and already holds container "
                f"'{members[0]}': the kernel allows one macvlan on a passthru parent",
                dotted(("containers", container, "networks", name)),
                "use mode bridge, vepa or private for several containers",
            )
        for container in members:
            if topology.containers[container].networks[name].mac is not None:
                yield Problem(
                    f"a passthru macvlan has the MAC of its parent {network.parent}",
                    dotted(("containers", container, "networks", name, "mac")),
                    "remove `mac:`, or use another mode",
                )


def check_shared_parents(topology: Topology) -> Iterator[Problem]:
    """A parent in passthru mode is used by no other macvlan network on its host."""
    first: dict[tuple[str, str], str] = {}
    macvlans = _macvlans(topology)
    for name, network in macvlans.items():
        where = (topology.host_of_network(name), network.parent)
        other = first.setdefault(where, name)
        if other == name:
            continue
        if "passthru" in (macvlans[other].mode, network.mode):
            yield Problem(
                f"parent {network.parent} on host '{where[0]}' is also the parent of macvlan "
                f"'{other}', and one of them is in passthru mode (the kernel refuses)",
                dotted(("networks", name, "parent")),
                "give each a parent of its own, or use mode bridge, vepa or private",
            )


def ports_ignored_by_macvlan(topology: Topology, name: str) -> str | None:
    """The macvlan network that makes Docker ignore a container's published ports: the
    one carrying its default route or, with no routed network, its first macvlan one."""
    container = topology.containers[name]
    if container.network_mode is not None:
        return None
    gateway = topology.gateway_network(name)
    candidates = [gateway] if gateway is not None else list(container.networks)
    macvlans = _macvlans(topology)
    return next((n for n in candidates if n in macvlans), None)


def warn_publish_on_macvlan(topology: Topology) -> Iterator[Problem]:
    for name, container in topology.containers.items():
        network = ports_ignored_by_macvlan(topology, name) if container.publish else None
        if network is not None:
            yield Problem(
                f"published ports are ignored on macvlan network '{network}', as Docker "
                "ignores them",
                dotted(("containers", name, "publish")),
                "the container has its own address on the LAN: reach its ports there, "
                "or remove `publish:`",
            )
