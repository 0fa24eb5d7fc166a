"""Order a host's changes into agent steps with a dependency graph.

Edges mean "must happen after" (as in Terraform): a resource is created after what it
requires, deleted before what it requires and after the updates that stop requiring it
(a bridge after its ports moved to another one), a replaced resource is deleted before it
is created again, and a name is freed before another resource takes it. On one device,
addresses are deleted before any is added and routes added after both (device_edges).
Independent steps share a generation and could run together.

The graph is sorted with the standard library's graphlib, not networkx: importing
networkx costs ~0.15-0.2 s, more than ordering 2,500 steps, and every apply paid it
(tests/unit/test_plan.py checks the generations against networkx's).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from graphlib import TopologicalSorter

from netplan.agent.resources import Address, Process, Resource, Route
from netplan.agent.state import HostState, Step
from netplan.plan.changes import Change, HostPlan
from netplan.plan.diff import conflicts, diff

OP_ORDER = {"delete": 0, "update": 1, "create": 2}

Node = tuple[str, str]
"""(op, resource key)"""
Graph = dict[Node, set[Node]]
"""Every node with the nodes that must come before it."""


def change_steps(change: Change) -> list[Step]:
    if change.action == "create":
        assert change.desired is not None
        return [Step("create", change.desired)]
    if change.action == "update":
        assert change.desired is not None
        return [Step("update", change.desired, tuple([f.field for f in change.fields]))]
    steps = []
    if not change.implicit_delete:
        assert change.observed is not None
        steps.append(Step("delete", change.observed))
    if change.action == "replace":
        assert change.desired is not None
        steps.append(Step("create", change.desired))
    return steps


def requirements(resource: Resource, addresses: dict[tuple[str, str], list[str]],
                 inside: dict[str, list[str]]) -> tuple[str, ...] | list[str]:
    """Keys a resource needs first; a route also needs the addresses on its device, and
    a process everything in its namespace (so that it starts with its network there)."""
    needed = resource.requires()
    if isinstance(resource, Route):
        return [*needed, *addresses.get((resource.netns, resource.dev), ())]
    if isinstance(resource, Process):
        return [*needed, *inside.get(resource.netns, ())]
    return needed


def step_nodes(steps: list[Step]) -> dict[Node, Step]:
    return {(s.op, s.resource.key): s for s in steps}


def dependency_graph(steps: list[Step], observed: Mapping[str, Resource]) -> Graph:
    return graph_of(step_nodes(steps), observed)


def graph_of(nodes: dict[Node, Step], observed: Mapping[str, Resource]) -> Graph:
    """The graph of the steps `nodes` names, made from `observed` (by key). A requirement
    is looked up by its key among the keys that steps make (create or update) or delete,
    not as a node per operation; names freed, addresses removed and requirements left
    behind are looked at only when a step deletes: most steps of a big plan (a thousand
    hosts files rewritten) have no edge, and cost a lookup or two each."""
    graph: Graph = {node: set() for node in nodes}
    addresses: dict[tuple[str, str], list[str]] = defaultdict(list)
    made: dict[str, list[Node]] = defaultdict(list)
    """Key → its create and update nodes."""
    deleted: set[str] = set()
    processes = False
    for node, step in nodes.items():
        op, key = node
        resource = step.resource
        if isinstance(resource, Address):
            addresses[(resource.netns, resource.dev)].append(key)
        processes = processes or isinstance(resource, Process)
        if op == "delete":
            deleted.add(key)
        else:
            made[key].append(node)
    inside = namespace_contents(nodes) if processes else {}
    for node, step in nodes.items():
        for needed in requirements(step.resource, addresses, inside):
            if node[0] != "delete":
                # After what creates the requirement, or changes it (a link set up again).
                for first in made.get(needed, ()):
                    graph[node].add(first)
            elif needed in deleted:
                graph[("delete", needed)].add(node)
    if deleted:
        for before, after in [*freed_names(nodes), *device_edges(nodes, addresses, deleted),
                              *left_behind(nodes, observed, deleted)]:
            graph[after].add(before)
    return graph


def namespace_contents(nodes: dict[Node, Step]) -> dict[str, list[str]]:
    """Namespace → the keys of the steps' resources in it, other than processes."""
    inside: dict[str, list[str]] = defaultdict(list)
    for (_, key), step in nodes.items():
        netns = getattr(step.resource, "netns", None)
        if netns is not None and not isinstance(step.resource, Process):
            inside[netns].append(key)
    return inside


def freed_names(nodes: dict[Node, Step]) -> list[tuple[Node, Node]]:
    """A resource takes a name (or other claim) after the one deleted that held it."""
    taken: dict[str, Node] = {}
    for node, step in nodes.items():
        if node[0] != "delete":
            for claim in step.resource.claims():
                taken[claim] = node
    edges = []
    for node, step in nodes.items():
        if node[0] == "delete":
            for claim in step.resource.claims():
                taker = taken.get(claim)
                if taker is not None:
                    edges.append((node, taker))
    return edges


def left_behind(nodes: dict[Node, Step], observed: Mapping[str, Resource],
                deleted: set[str]) -> list[tuple[Node, Node]]:
    """A resource is deleted after the updates that stop requiring it: a bridge after its
    ports moved to another one. Deleted first, it would take them off by itself, and a
    rollback, last step first, would put them back before making it again."""
    edges = []
    for node, step in nodes.items():
        before = observed.get(node[1]) if node[0] == "update" else None
        if before is None:
            continue
        kept = step.resource.requires()
        edges += [(node, ("delete", needed)) for needed in before.requires()
                  if needed in deleted and needed not in kept]  # fmt: skip
    return edges


def device_edges(nodes: dict[Node, Step], addresses: dict[tuple[str, str], list[str]],
                 deleted: set[str]) -> list[tuple[Node, Node]]:
    """An address or route added to a device comes after the addresses deleted from it.

    Deleting a primary IPv4 address deletes the secondaries of its subnet (unless
    promote_secondaries is set), which an address of that subnet added first would be;
    deleting a device's last IPv4 address deletes its routes."""
    edges = []
    for node, step in nodes.items():
        resource = step.resource
        if node[0] == "delete" or not isinstance(resource, Address | Route):
            continue
        for other in addresses.get((resource.netns, resource.dev), ()):
            if other in deleted:
                edges.append((("delete", other), node))
    return edges


def order_steps(steps: list[Step], observed: Mapping[str, Resource]) -> list[list[Step]]:
    """Generations of steps made from `observed`; every step comes after everything it
    depends on."""
    nodes = step_nodes(steps)
    rank = {node: (OP_ORDER[node[0]], step.resource.ORDER, node[1])
            for node, step in nodes.items()}
    return [[nodes[n] for n in sorted(generation, key=rank.__getitem__)]
            for generation in generations(graph_of(nodes, observed))]


def generations(graph: Graph) -> list[list[Node]]:
    """Kahn's layers: each node in the first generation after all of its predecessors.

    A node with no edge either way (a thousand hosts files rewritten when a container
    joins their network) belongs to the first and is put there directly: the sorter
    only gets the nodes that have an edge."""
    predecessors: set[Node] = set().union(*graph.values())
    alone = [node for node, before in graph.items() if not before and node not in predecessors]
    sorter = TopologicalSorter({node: before for node, before in graph.items()
                                if before or node in predecessors})
    sorter.prepare()
    layers: list[list[Node]] = []
    while sorter.is_active():
        ready = list(sorter.get_ready())
        layers.append(ready)
        sorter.done(*ready)
    if not alone:
        return layers
    return [alone + layers[0], *layers[1:]] if layers else [alone]


def plan_host(host: str, desired: HostState, observed: HostState) -> HostPlan:
    """The pure planner: (desired, observed) → conflicts, changes and ordered steps."""
    changes = sorted(
        diff(desired, observed),
        key=lambda c: (c.resource.ORDER, c.key),
    )
    steps = [step for change in changes for step in change_steps(change)]
    ordered = [step for generation in order_steps(steps, observed.resources)
               for step in generation]
    return HostPlan(host, changes, ordered, conflicts(host, desired, observed), desired,
                    observed)
