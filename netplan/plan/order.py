"""Order a host's changes into agent steps with a dependency graph.

Edges mean "must happen after" (as in Terraform): a resource is created after what it
requires, deleted before what it requires, a replaced resource is deleted before it is
created again, and a name is freed before another resource takes it. Independent steps
share a generation and could run together.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from netplan.agent.resources import Address, Process, Resource, Route
from netplan.agent.state import HostState, Step
from netplan.plan.changes import Change, HostPlan
from netplan.plan.diff import conflicts, diff

if TYPE_CHECKING:
    import networkx as nx

OP_ORDER = {"delete": 0, "update": 1, "create": 2}

Node = tuple[str, str]
"""(op, resource key)"""


def change_steps(change: Change) -> list[Step]:
    if change.action == "create":
        assert change.desired is not None
        return [Step("create", change.desired)]
    if change.action == "update":
        assert change.desired is not None
        return [Step("update", change.desired, tuple(f.field for f in change.fields))]
    steps = []
    if not change.implicit_delete:
        assert change.observed is not None
        steps.append(Step("delete", change.observed))
    if change.action == "replace":
        assert change.desired is not None
        steps.append(Step("create", change.desired))
    return steps


def requirements(resource: Resource, addresses: dict[tuple[str, str], list[str]],
                 inside: dict[str, list[str]]) -> list[str]:
    """Keys a resource needs first; a route also needs the addresses on its device, and
    a process everything in its namespace (so that it starts with its network there)."""
    needed = list(resource.requires())
    if isinstance(resource, Route):
        needed += addresses.get((resource.netns, resource.dev), [])
    if isinstance(resource, Process):
        needed += inside.get(resource.netns, [])
    return needed


def dependency_graph(steps: list[Step]) -> nx.DiGraph:
    import networkx as nx  # 0.2 s to import: only commands that plan pay for it

    graph = nx.DiGraph()
    nodes: dict[Node, Step] = {(s.op, s.resource.key): s for s in steps}
    graph.add_nodes_from(nodes)
    addresses: dict[tuple[str, str], list[str]] = defaultdict(list)
    for step in steps:
        if isinstance(step.resource, Address):
            addresses[(step.resource.netns, step.resource.dev)].append(step.resource.key)
    inside: dict[str, list[str]] = defaultdict(list)
    for step in steps:
        netns = getattr(step.resource, "netns", None)
        if netns is not None and not isinstance(step.resource, Process):
            inside[netns].append(step.resource.key)
    created_claims: dict[str, Node] = {}
    for (op, key), step in nodes.items():
        if op != "delete":
            for claim in step.resource.claims():
                created_claims[claim] = (op, key)
    for (op, key), step in nodes.items():
        for needed in requirements(step.resource, addresses, inside):
            if op == "delete":
                if ("delete", needed) in nodes:
                    graph.add_edge((op, key), ("delete", needed))
                continue
            # After what creates the requirement, or changes it (a link set up again).
            for first in (("create", needed), ("update", needed)):
                if first in nodes:
                    graph.add_edge(first, (op, key))
        if op == "delete":
            for claim in step.resource.claims():
                taker = created_claims.get(claim)
                if taker is not None:
                    graph.add_edge((op, key), taker)
    return graph


def order_steps(steps: list[Step]) -> list[list[Step]]:
    """Generations of steps; every step comes after everything it depends on."""
    if not steps:
        return []  # a host in sync: not worth networkx's import
    import networkx as nx

    graph = dependency_graph(steps)
    by_node: dict[Node, Step] = {(s.op, s.resource.key): s for s in steps}

    def rank(node: Node) -> tuple[int, int, str]:
        step = by_node[node]
        return (OP_ORDER[step.op], step.resource.ORDER, step.resource.key)

    return [
        [by_node[n] for n in sorted(generation, key=rank)]
        for generation in nx.topological_generations(graph)
    ]


def plan_host(host: str, desired: HostState, observed: HostState) -> HostPlan:
    """The pure planner: (desired, observed) → conflicts, changes and ordered steps."""
    changes = sorted(
        diff(desired, observed),
        key=lambda c: (c.resource.ORDER, c.key),
    )
    steps = [step for change in changes for step in change_steps(change)]
    ordered = [step for generation in order_steps(steps) for step in generation]
    return HostPlan(host, changes, ordered, conflicts(desired, observed), desired, observed)
