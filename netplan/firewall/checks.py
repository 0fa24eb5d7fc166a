"""Checks of published ports across the file (run by netplan/topology/checks.py)."""

from __future__ import annotations

from collections.abc import Iterator

from netplan.errors import Problem
from netplan.firewall.ports import PortMapping
from netplan.topology.macvlan_checks import ports_ignored_by_macvlan
from netplan.topology.model import Topology
from netplan.topology.positions import dotted


def check_publish_modes(topology: Topology) -> Iterator[Problem]:
    """Only a container with a namespace and a routed network of its own can publish
    (`container:X` is refused, as Docker refuses it; `host` mode only warns)."""
    for name, container in topology.containers.items():
        if not container.publish or container.network_mode == "host":
            continue
        path = dotted(("containers", name, "publish"))
        if ports_ignored_by_macvlan(topology, name):
            continue  # ignored, as Docker ignores them: warn_publish_on_macvlan
        target = container.shares_with
        if target is not None:
            yield Problem(
                f"a container in network_mode 'container:{target}' cannot publish ports",
                path,
                f"publish them on '{target}', whose namespace it shares",
            )
        elif topology.gateway_network(name) is None:
            yield Problem(
                f"container '{name}' has no network its ports could be published from",
                path,
                "attach it to a bridge network that is not internal",
            )


def check_published_twice(topology: Topology) -> Iterator[Problem]:
    """A host port (and protocol) is published once per host address."""
    taken: dict[str, list[tuple[PortMapping, str]]] = {}
    for name, container in topology.containers.items():
        if container.network_mode is not None:
            continue
        host = topology.host_of_container(name)
        for index, text in enumerate(container.publish):
            mapping = PortMapping.parse(text)
            path = dotted(("containers", name, "publish", index))
            earlier = next((p for m, p in taken.get(host, []) if m.overlaps(mapping)), None)
            if earlier is not None:
                yield Problem(
                    f"host port {mapping.host_port}/{mapping.protocol} is already "
                    f"published by {earlier}",
                    path,
                    "use another host port, or bind each to a different host address",
                )
            taken.setdefault(host, []).append((mapping, path))


def warn_publish_in_host_mode(topology: Topology) -> Iterator[Problem]:
    for name, container in topology.containers.items():
        if container.publish and container.network_mode == "host":
            yield Problem(
                "published ports are discarded in network_mode 'host', as Docker does",
                dotted(("containers", name, "publish")),
                "the container uses the host's ports directly: remove `publish:`",
            )
