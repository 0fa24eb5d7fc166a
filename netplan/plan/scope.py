"""Which namespaces an apply changed, so that verifying it looks inside those alone.

An apply observes every namespace before it plans, under the host lock; afterwards only
the namespaces its steps changed can differ from that observation. Verifying re-reads
those, and the root namespace, hosts files and processes, which are cheap to read whole,
and takes the rest from the observation the plan was made from: adding one container
to 500 then re-reads one namespace, not 500. Pure.
"""

from __future__ import annotations

from netplan.agent.resources import (
    ROOT,
    Address,
    Bridge,
    Macvlan,
    Netns,
    Resource,
    Route,
    Veth,
    Vlan,
)
from netplan.agent.state import HostState
from netplan.plan.changes import HostPlan

SEEN_INSIDE = (Veth, Macvlan, Address, Route)
"""Kinds the agent reads with a netlink dump inside their namespace."""
ATTACHED_TO = (Bridge, Vlan)
"""Root-namespace links that veths and macvlans inside namespaces are attached to."""


def namespace_of(resource: Resource) -> str | None:
    """The named namespace whose netlink state shows `resource`; None for what is read
    elsewhere (the root namespace, files, processes)."""
    if isinstance(resource, Netns):
        return resource.name
    if isinstance(resource, SEEN_INSIDE) and resource.netns != ROOT:
        return resource.netns
    return None


def touched_namespaces(plan: HostPlan) -> list[str] | None:
    """The namespaces the plan's steps change, sorted; None (all of them) when a step
    changes a bridge or VLAN link: what a veth or macvlan is attached to is read from
    its root-namespace side, so every namespace's links may have changed with it."""
    if any(isinstance(step.resource, ATTACHED_TO) for step in plan.steps):
        return None
    return sorted({name for step in plan.steps
                   if (name := namespace_of(step.resource)) is not None})  # fmt: skip


def with_untouched(before: HostState, after: HostState, touched: list[str] | None) -> HostState:
    """`after` (observed inside the `touched` namespaces only) completed with what
    `before` saw inside every other namespace, and who held it."""
    if touched is None:
        return after
    inside = set(touched)
    merged = HostState(facts=after.facts)
    kept = [r for r in before.resources.values()
            if (name := namespace_of(r)) is not None and name not in inside]
    for resource in [*kept, *after.resources.values()]:
        merged.add(resource)
    netns_key = Netns("").key  # the prefix of every namespace's key
    merged.foreign.update({key: owner for key, owner in before.foreign.items()
                           if key.startswith(netns_key)
                           and key.removeprefix(netns_key) not in inside})
    merged.foreign.update(after.foreign)
    for resource in kept:  # a veth's host end is known as ours from inside its namespace
        for claim in resource.claims():
            merged.foreign.pop(claim, None)
    return merged
