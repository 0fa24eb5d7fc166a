"""Where in the topology file a resource comes from: the container or network it was
made for, as a line and column (for GitHub annotations and JUnit test cases)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from netplan.agent.resources import ROOT, Netns, Resource
from netplan.topology.positions import Pos, Positions, dotted

Links = dict[tuple[str, str], Resource]


def links_of(resources: Iterable[Resource]) -> Links:
    """Links by (namespace, name): what an address, route or FDB entry sits on."""
    found: Links = {}
    for resource in resources:
        name = getattr(resource, "name", None)
        if resource.key.startswith("link:") and isinstance(name, str):
            found.setdefault((getattr(resource, "netns", ROOT), name), resource)
    return found


def topology_path(resource: Resource, links: Links) -> str:
    """The dotted path of the topology entry a resource was made for: a container's
    attachment to a network, a network, a container; `networks` for what the whole
    topology needs (its firewall table, ip_forward)."""
    container = getattr(resource, "container", None)
    network = getattr(resource, "network", None)
    if isinstance(container, str) and isinstance(network, str):
        return dotted(("containers", container, "networks", network))
    if isinstance(network, str):
        return dotted(("networks", network))
    netns = getattr(resource, "netns", ROOT)
    dev = getattr(resource, "dev", None)
    link = links.get((netns, dev)) if isinstance(dev, str) else None
    if link is not None and link is not resource:
        return topology_path(link, links)
    if isinstance(resource, Netns):
        return dotted(("containers", resource.name))
    if isinstance(netns, str) and netns:
        return dotted(("containers", netns))
    return "networks"


def position(
    resource: Resource, links: Links, positions: Callable[[], Positions]
) -> Pos | None:
    """The line and column of the entry's key (`web:`), or of the nearest enclosing entry
    when the file no longer has it (a container removed from the file). `positions` is
    asked here only, so a check with nothing to place does not parse the file."""
    found = positions().find(topology_path(resource, links))
    if found is None:
        return None
    entry, _exact = found
    return entry.key or entry.value
