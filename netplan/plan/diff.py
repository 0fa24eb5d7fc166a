"""Compare desired and observed state of one host: conflicts, then one Change per resource.

Pure functions, no I/O. A field the topology leaves as None is not compared (the
kernel's choice is fine). A change to a field the kernel cannot change in place is a
replace, and the kernel deletes a resource's children with it, so children that must
stay are re-created (their reason says why). The kernel may also delete a device's
routes with one of its addresses: those the plan deletes and creates again itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from netplan.agent.resources import (
    Address,
    FieldValues,
    NftTable,
    Resource,
    Route,
    StrayLink,
    Sysctl,
    Veth,
    field_names,
    field_values,
)
from netplan.agent.state import HostState
from netplan.plan.changes import Change, Conflict, FieldChange, shown
from netplan.plan.overlaps import overlap_conflicts
from netplan.plan.port_clashes import port_conflicts
from netplan.plan.publish_ips import local_ip_conflicts


def conflicts(host: str, desired: HostState, observed: HostState) -> list[Conflict]:
    """Names the desired resources need that foreign objects hold; subnets and published
    ports of theirs that `host` already gives to others, and published ports bound to an
    IP it does not have."""
    found: dict[str, Conflict] = {}
    for resource in desired.resources.values():
        for claim in resource.claims():
            owner = observed.foreign.get(claim)
            if owner is None:
                continue
            what = resource.describe()
            if claim != resource.key:
                what = f"link {claim.partition('/')[2]} (for {what})"
            found[claim] = Conflict(what, owner)
    return [*(found[k] for k in sorted(found)), *overlap_conflicts(desired, observed),
            *port_conflicts(desired, observed), *local_ip_conflicts(host, desired, observed)]


def compared_values(kind: type) -> tuple[tuple[str, ...], FieldValues]:
    """The compared fields of a resource kind and what reads them all in one call (a
    plan that rewrites a thousand hosts files compares a thousand pairs)."""
    return field_names(kind), field_values(kind)


def field_changes(desired: Resource, observed: Resource) -> tuple[FieldChange, ...]:
    names, values = compared_values(type(desired))
    return tuple([FieldChange(name, old, new)
                  for name, new, old in zip(names, values(desired), values(observed),
                                             strict=True)
                  if new is not None and new != old])


def compare(key: str, desired: Resource | None, observed: Resource | None) -> Change | None:
    if observed is None:
        assert desired is not None
        return Change("create", key, desired, None)
    if desired is None:
        reason = observed.why if isinstance(observed, StrayLink) else ""
        return Change("delete", key, None, observed, reason=reason)
    if type(desired) is not type(observed):
        reason = f"kind changes ({observed.KIND} → {desired.KIND})"
        return Change("replace", key, desired, observed, reason=reason)
    if desired == observed:  # every compared field equal: the common case, compared at once
        return None
    return differing(key, desired, observed)


def differing(key: str, desired: Resource, observed: Resource) -> Change | None:
    """compare() of two resources of one kind that are not equal as a whole (a field
    the topology leaves as None may be all that differs)."""
    changed = field_changes(desired, observed)
    if not changed:
        return None
    fixed = [c for c in changed if c.field not in desired.MUTABLE]
    if fixed:
        return Change("replace", key, desired, observed, changed, replace_reason(desired, fixed))
    return Change("update", key, desired, observed, changed)


def replace_reason(desired: Resource, fixed: list[FieldChange]) -> str:
    """`cannot change vni 4096 → 42 in place (the kernel refuses …): delete and recreate`,
    with the kernel's refusal where the kind names it."""
    what = ", ".join(f"{c.field} {shown(c.old)} → {shown(c.new)}" for c in fixed)
    why = desired.refusal([c.field for c in fixed])
    return f"cannot change {what} in place{f' ({why})' if why else ''}: delete and recreate"


def doomed_ancestor(observed: HostState, key: str, doomed: set[str]) -> bool:
    parent = observed.resources[key].parent()
    while parent is not None and parent in observed.resources:
        if parent in doomed:
            return True
        parent = observed.resources[parent].parent()
    return False


def doomed_children(observed: HostState, doomed: set[str]) -> dict[str, str]:
    """Observed resources the kernel removes along with a doomed ancestor → the top-most one."""
    children: dict[str, list[str]] = defaultdict(list)
    for resource in observed.resources.values():
        parent = resource.parent()
        if parent is not None:
            children[parent].append(resource.key)
    result: dict[str, str] = {}
    stack = [(key, key) for key in doomed if not doomed_ancestor(observed, key, doomed)]
    while stack:
        key, root = stack.pop()
        for child in children.get(key, ()):
            if child not in result:
                result[child] = root
                stack.append((child, root))
    return result


def routes_losing_an_address(observed: HostState, changes: dict[str, Change]) -> dict[str, Address]:
    """Observed routes on a device that a step deletes an address from → that address.

    The kernel deletes a device's routes with its last IPv4 address (and any route whose
    source an address is), with no step of the plan to undo: a rollback could not bring
    them back, nor an update find them. So the plan deletes them itself, before the
    address (order.py), and creates the desired ones after the device's new addresses."""
    losing: dict[tuple[str, str], Address] = {}
    for change in changes.values():
        gone = change.observed
        if (isinstance(gone, Address) and change.action in ("delete", "replace")
                and not change.implicit_delete):
            device = (gone.netns, gone.dev)
            if device not in losing or gone.key < losing[device].key:
                losing[device] = gone
    if not losing:
        return {}
    return {r.key: losing[(r.netns, r.dev)] for r in observed.resources.values()
            if isinstance(r, Route) and (r.netns, r.dev) in losing}


def recreated(key: str, desired: HostState, observed: HostState, change: Change | None,
              reason: str, cause: str, implicit_delete: bool) -> Change:
    """`key` replaced because of `cause`'s delete, keeping its own differences."""
    if change is not None and change.reason:
        reason = f"{change.reason}; {reason}"
    return Change("replace", key, desired.resources[key], observed.resources[key],
                  change.fields if change else (), reason, implicit_delete, cause)


def unread_settings(changes: dict[str, Change]) -> dict[str, Change]:
    """Creates of host-wide settings that were not read: ip_forward carries no marker, so
    it is observed only while the topology's inet table exists (netplan/agent/sysctl.py).
    With that table missing, its create says so rather than calling the setting missing."""
    tables = [c.key for c in changes.values() if c.action == "create"
              and isinstance(c.desired, NftTable) and c.desired.family == "inet"]
    if not tables:
        return {}
    return {key: replace(change, reason=f"not observed: read only while {tables[0]} exists")
            for key, change in changes.items()
            if change.action == "create" and isinstance(change.desired, Sysctl)
            and change.desired.dev is None}


def moved_interfaces(changes: dict[str, Change], desired: HostState) -> dict[str, Change]:
    """Replaced veths whose interface now joins another network, with that as the
    reason: a veth's peer is named after its network, so the kernel's refusal to rename
    it would hide why it changes (a veth whose host end is gone, with no network seen,
    keeps that refusal). When the old network is still joined, on another
    interface, the container's networks were reordered (eth0, eth1 follow their order)."""
    moved = {key: change for key, change in changes.items()
             if change.action == "replace" and isinstance(change.desired, Veth)
             and isinstance(change.observed, Veth) and change.observed.network
             and change.desired.network != change.observed.network}
    if not moved:
        return {}
    joined = {(r.netns, r.network): r.name for r in desired.resources.values()
              if isinstance(r, Veth)}
    result = {}
    for key, change in moved.items():
        new, old = change.desired, change.observed
        assert isinstance(new, Veth) and isinstance(old, Veth)
        move = f"{new.name} moves from network {old.network} to {new.network}"
        now = joined.get((new.netns, old.network))
        why = (f"the order of container {new.container}'s networks changed, which renames "
               f"its interfaces: {move} ({old.network} is now on {now})" if now is not None
               else f"{move} (container {new.container})")
        result[key] = replace(change, reason=f"{why}: delete and recreate")
    return result


def diff(desired: HostState, observed: HostState) -> list[Change]:
    """One Change per resource that differs, in no particular order (see order.py)."""
    changes: dict[str, Change] = {}
    wanted, found = desired.resources, observed.resources
    for key, resource in wanted.items():
        other = found.get(key)
        if type(other) is not type(resource):
            change = compare(key, resource, other)
        elif other == resource:
            continue  # the common case, thousands of times a plan: settled without a call
        else:
            change = differing(key, resource, other)
        if change is not None:
            changes[key] = change
    for key in found.keys() - wanted.keys():
        change = compare(key, None, found[key])
        if change is not None:
            changes[key] = change
    changes.update(unread_settings(changes))
    changes.update(moved_interfaces(changes, desired))
    doomed = {k for k, c in changes.items() if c.action in ("delete", "replace")}
    for key, ancestor in (doomed_children(observed, doomed) if doomed else {}).items():
        described = observed.resources[ancestor].describe()
        change = changes.get(key)
        if change is not None and change.action == "delete":
            changes[key] = Change(
                "delete",
                key,
                None,
                change.observed,
                reason=f"removed with {described}",
                implicit_delete=True,
            )
        elif key in desired.resources:
            changes[key] = recreated(key, desired, observed, change,
                                     f"recreated with {described}", ancestor, True)
    for key, address in routes_losing_an_address(observed, changes).items():
        change = changes.get(key)
        if change is None or change.action == "update":  # else gone by a step of its own
            changes[key] = recreated(
                key, desired, observed, change,
                f"recreated: the kernel may delete it with {address.describe()}", address.key,
                False)
    return list(changes.values())
