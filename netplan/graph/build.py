"""The topology as a graph: one cluster per host holding its networks, containers and
published ports; edges for attachments (labelled with addresses), shared namespaces and
overlay tunnels between hosts (labelled with the VNI). Pure.

With the plans of `--observed`, each element carries what the hosts have: `missing` (in
the file, not on the host), `extra` (on the host, not in the file) or `drifted`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from itertools import combinations
from typing import Literal

from netplan.agent.resources import Netns, Resource
from netplan.firewall.ports import PortMapping
from netplan.plan.changes import Change, HostPlan
from netplan.topology.model import OverlayNetwork, Topology

Status = Literal["ok", "missing", "extra", "drifted"]
Kind = Literal["network", "container", "port"]

_WORSE = {"ok": 0, "drifted": 1, "extra": 2, "missing": 3}
_STATUS: dict[str, Status] = {
    "create": "missing", "delete": "extra", "update": "drifted", "replace": "drifted",
}


@dataclass
class Node:
    id: str
    label: str
    kind: Kind
    status: Status = "ok"


@dataclass
class Edge:
    source: str
    target: str
    label: str
    kind: Literal["attach", "share", "tunnel", "publish"]
    status: Status = "ok"


@dataclass
class Graph:
    title: str
    clusters: dict[str, list[Node]] = field(default_factory=dict)
    """Host name → its nodes."""
    edges: list[Edge] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    """Host name → lines about it (e.g. `firewall drifted`)."""

    def node(self, node_id: str) -> Node | None:
        return next((n for nodes in self.clusters.values() for n in nodes if n.id == node_id),
                    None)


def network_id(host: str, network: str) -> str:
    return f"net:{host}:{network}"


def container_id(container: str) -> str:
    return f"ctr:{container}"


def build_graph(
    topology: Topology,
    addresses: Mapping[tuple[str, str], IPv4Address],
    vnis: Mapping[str, int],
) -> Graph:
    """The topology as the file describes it, with the allocated addresses and VNIs."""
    graph = Graph(topology.name, {host: [] for host in topology.hosts})
    for name, network in topology.networks.items():
        label = f"{name}\n{network.driver} {network.subnet}"
        for host in topology.hosts_of_network(name):
            if host in graph.clusters:
                graph.clusters[host].append(Node(network_id(host, name), label, "network"))
        if isinstance(network, OverlayNetwork):
            for a, b in combinations(topology.hosts_of_network(name), 2):
                graph.edges.append(Edge(network_id(a, name), network_id(b, name),
                                        f"VXLAN VNI {vnis.get(name, network.vni)}", "tunnel"))
    for name, container in topology.containers.items():
        host = topology.host_of_container(name)
        mode = container.network_mode
        label = name if mode is None else f"{name}\n{mode}"
        graph.clusters.setdefault(host, []).append(Node(container_id(name), label, "container"))
        if container.shares_with:
            graph.edges.append(Edge(container_id(name), container_id(container.shares_with),
                                    "same namespace", "share"))
        for net_name in container.networks:
            address = addresses.get((name, net_name))
            graph.edges.append(Edge(container_id(name), network_id(host, net_name),
                                    str(address) if address else "", "attach"))
        for text in container.publish:
            port = PortMapping.parse(text)
            port_id = f"port:{host}:{text}"
            where = f"{port.host_ip or '*'}:{port.host_port}/{port.protocol}"
            graph.clusters[host].append(Node(port_id, f"published {where}", "port"))
            graph.edges.append(Edge(port_id, container_id(name),
                                    f"to {port.container_port}/{port.protocol}", "publish"))
    return graph


def mark_observed(graph: Graph, plans: Mapping[str, HostPlan]) -> Graph:
    """Mark what each host lacks, has extra or has differently, from the planner's diff;
    what the hosts have that the file does not describe is added, marked `extra`."""
    for host, plan in plans.items():
        for change in plan.changes:
            if change.implicit_delete:
                continue
            _mark(graph, host, change)
    return graph


def _mark(graph: Graph, host: str, change: Change) -> None:
    resource = change.resource
    status = _STATUS[change.action]
    container, network = _owner(resource)
    if container is not None and network is not None and not isinstance(resource, Netns):
        edge = _find_edge(graph, container_id(container), network_id(host, network))
        if edge is None:
            _ensure(graph, host, container_id(container), container, "container", "extra")
            _ensure(graph, host, network_id(host, network), network, "network", "extra")
            edge = Edge(container_id(container), network_id(host, network), "", "attach")
            graph.edges.append(edge)
        edge.status = _worse(edge.status, status)
    elif isinstance(resource, Netns):
        _ensure(graph, host, container_id(resource.name), resource.name, "container", status)
    elif network is not None:
        _ensure(graph, host, network_id(host, network), network, "network", status)
    elif isinstance(netns := getattr(resource, "netns", None), str) and graph.node(
            container_id(netns)) is not None:
        _ensure(graph, host, container_id(netns), netns, "container", "drifted")
    else:
        graph.notes.setdefault(host, []).append(f"{change.key}: {status}")


def _owner(resource: Resource) -> tuple[str | None, str | None]:
    container = getattr(resource, "container", None)
    network = getattr(resource, "network", None)
    return (container if isinstance(container, str) else None,
            network if isinstance(network, str) else None)


def _find_edge(graph: Graph, source: str, target: str) -> Edge | None:
    return next((e for e in graph.edges if (e.source, e.target) == (source, target)), None)


def _ensure(graph: Graph, host: str, node_id: str, label: str, kind: Kind,
            status: Status) -> None:
    node = graph.node(node_id)
    if node is None:
        graph.clusters.setdefault(host, []).append(Node(node_id, label, kind, "extra"))
    else:
        node.status = _worse(node.status, status)


def _worse(a: Status, b: Status) -> Status:
    return a if _WORSE[a] >= _WORSE[b] else b
