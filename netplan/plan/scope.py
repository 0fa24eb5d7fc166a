"""What an apply changed, so that verifying it re-reads that alone.

An apply observes every namespace before it plans, under the host lock; afterwards only
what its steps changed can differ from that observation. Verifying re-reads the
namespaces the steps changed, the root namespace if a step changed an object there, and
the hosts files and processes, which are read whole; it takes the rest from the
observation the plan was made from. Adding one container to 1,000 then re-reads one
namespace and the two root links it names (its veth's host end and that port's
bridge), not 1,000 namespaces and 1,000 root links. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from netplan.agent.resources import (
    ROOT,
    Address,
    Bridge,
    HostsFile,
    Macvlan,
    Netns,
    Process,
    Resource,
    Route,
    Veth,
    Vlan,
    link_key,
)
from netplan.agent.state import HostState
from netplan.plan.changes import HostPlan

SEEN_INSIDE = (Veth, Macvlan, Address, Route)
"""Kinds the agent reads with a netlink dump inside their namespace."""
ATTACHED_TO = (Bridge, Vlan)
"""Root-namespace links that veths and macvlans inside namespaces are attached to."""
READ_WHOLE = (HostsFile, Process)
"""Kinds read from files and /proc: every observation reads all of them."""
ROOT_HOLDERS = link_key(ROOT, "")
"""The prefix of the keys of root-namespace links held by others (HostState.foreign)."""


@dataclass(frozen=True)
class Scope:
    """What verifying a plan re-reads: the named namespaces to look into (None: every
    one) and whether the root namespace's own objects."""

    namespaces: list[str] | None
    root: bool


def namespace_of(resource: Resource) -> str | None:
    """The named namespace whose netlink state shows `resource`; None for what is read
    elsewhere (the root namespace, files, processes)."""
    if isinstance(resource, Netns):
        return resource.name
    if isinstance(resource, SEEN_INSIDE) and resource.netns != ROOT:
        return resource.netns
    return None


def scope_of(plan: HostPlan) -> Scope:
    """Every namespace when a step changes a bridge or VLAN link: what a veth or macvlan
    is attached to is read from its root-namespace side, so every namespace's links may
    have changed with it. Else the namespaces the steps change (sorted), and the root
    namespace if a step changes an object read there; a veth's host end is read with
    its namespace."""
    resources = [step.resource for step in plan.steps]
    if any(isinstance(resource, ATTACHED_TO) for resource in resources):
        return Scope(None, root=True)
    seen = [(namespace_of(resource), resource) for resource in resources]
    root = any(name is None and not isinstance(resource, READ_WHOLE) for name, resource in seen)
    return Scope(sorted({name for name, _ in seen if name is not None}), root)


def with_untouched(before: HostState, after: HostState, scope: Scope) -> HostState:
    """`after` (observed within `scope`) completed with what `before` saw outside it:
    inside every other namespace, in the root namespace if it was not read again, and
    who held names there."""
    if scope.namespaces is None:
        return after
    inside = set(scope.namespaces)
    merged = HostState(facts=after.facts if scope.root else before.facts)
    kept = merged.resources = _read_within(before.resources, inside, scope.root)[1]
    netns_key = Netns("").key  # the prefix of every namespace's key
    merged.foreign.update({key: owner for key, owner in before.foreign.items()
                           if (key.startswith(netns_key)
                               and key.removeprefix(netns_key) not in inside)
                           or (not scope.root and key.startswith(ROOT_HOLDERS))})
    merged.foreign.update(after.foreign)
    if merged.foreign:  # a veth's host end is known as ours from inside its namespace
        for resource in kept.values():
            for claim in resource.claims():
                merged.foreign.pop(claim, None)
    merged.resources = {**kept, **after.resources}
    return merged


def within(state: HostState, scope: Scope) -> HostState:
    """The part of `state` an observation within `scope` reads (its `foreign` whole):
    what verify compares. The plan the steps came from compared the rest already, and
    found no difference there: a difference is a step, and every step is in the scope.
    At N=1,000, an add's verify compares ~1,000 resources, not ~5,000."""
    if scope.namespaces is None:
        return state
    read = _read_within(state.resources, set(scope.namespaces), scope.root)[0]
    return HostState(read, foreign=state.foreign, facts=state.facts)


Where = Callable[[Any], str] | None
_WHERE: dict[type, Where] = {}
"""By kind of resource, the namespace an observation reads it in (ROOT: the root
namespace's own objects); None: read whole, whatever the scope."""


def _where(kind: type) -> Where:
    if issubclass(kind, Netns):
        return attrgetter("name")
    if issubclass(kind, SEEN_INSIDE):
        return attrgetter("netns")
    if issubclass(kind, READ_WHOLE):
        return None
    return lambda resource: ROOT


def _read_within(
    resources: dict[str, Resource], inside: set[str], root_read: bool
) -> tuple[dict[str, Resource], dict[str, Resource]]:
    """`resources` split: those an observation within a scope of the `inside` namespaces
    (and the root namespace's own objects, if `root_read`) reads, and the others. One
    loop and a lookup by kind per resource: verify splits ~5,000 of them three times."""
    read: dict[str, Resource] = {}
    unread: dict[str, Resource] = {}
    known = _WHERE
    for key, resource in resources.items():
        kind = type(resource)
        if kind not in known:
            known[kind] = _where(kind)
        where = known[kind]
        if where is None:
            read[key] = resource
            continue
        name = where(resource)
        if root_read if name == ROOT else name in inside:
            read[key] = resource
        else:
            unread[key] = resource
    return read, unread
