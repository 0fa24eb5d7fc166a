"""Plans and differences for people (text) and for programs (versioned JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netplan.agent.resources import PORT_DEFAULTS, Resource, comparable
from netplan.plan.changes import SYMBOLS, Change, HostPlan, shown

FORMAT_VERSION = 1

COLORS = {"create": "green", "update": "yellow", "replace": "magenta", "delete": "red"}


def summary(host_plan: HostPlan) -> str:
    counts = host_plan.counts()
    parts = [f"{counts[a]} to {a}" for a in ("create", "update", "replace", "delete")]
    return ", ".join(parts)


def plan_line(plans: Mapping[str, HostPlan]) -> str:
    """Every host's plan in one line (`--quiet`)."""
    conflicts = sum(len(p.conflicts) for p in plans.values())
    if all(p.empty for p in plans.values()) and not conflicts:
        return f"no changes: {len(plans)} host(s) in sync"
    totals = {a: sum(p.counts()[a] for p in plans.values())
              for a in ("create", "update", "replace", "delete")}  # fmt: skip
    text = ", ".join(f"{n} to {a}" for a, n in totals.items())
    if conflicts:
        text += f", {conflicts} conflict(s)"
    return f"plan: {text} on {len(plans)} host(s)"


def attributes(resource: Resource) -> str:
    """The fields worth showing on a create/delete line, e.g. `mtu=1500 mac=02:42:…`;
    a bridge port's settings only where they are not the kernel's defaults."""
    shown = {
        k: v
        for k, v in comparable(resource).items()
        if v not in (None, "", True) and k not in ("name", "netns", "dev", "cidr", "dst")
        and (k not in PORT_DEFAULTS or v != PORT_DEFAULTS[k])
    }
    return " ".join(f"{k}={v}" for k, v in shown.items())


def change_line(change: Change) -> str:
    symbol = SYMBOLS[change.action]
    text = f"{symbol} {change.resource.describe()}"
    if change.action == "create":
        extra = attributes(change.resource)
        text += f"  {extra}" if extra else ""
    elif change.fields:
        text += ": " + ", ".join(f"{f.field} {shown(f.old)} → {shown(f.new)}"
                                 for f in change.fields)
    if change.reason:
        text += f"  ({change.reason})"
    return text


def render_plans(plans: Mapping[str, HostPlan]) -> list[tuple[str, str | None]]:
    """Lines with an optional rich style, for the CLI to print."""
    lines: list[tuple[str, str | None]] = []
    for host, host_plan in plans.items():
        for conflict in host_plan.conflicts:
            lines.append((f"! host {host}: {conflict.what} {conflict.owner}", "bold red"))
        if not host_plan.changes:
            lines.append((f"host {host}: no changes, in sync", None))
            continue
        lines.append((f"host {host}: {summary(host_plan)}", "bold"))
        folded = folded_updates(host_plan.changes)
        for change in host_plan.changes:
            group = folded.get(id(change))
            if group is None:
                lines.append(("  " + change_line(change), COLORS[change.action]))
            elif group[0] is change:
                lines.append(("  " + folded_line(group), COLORS[change.action]))
    return lines


FOLDED_FROM = 4
"""Updates alike from how many on are shown as one line (folded_line)."""


def folded_updates(changes: list[Change]) -> dict[int, list[Change]]:
    """The updates shown as one line, each (by id) to all of its group: updates of the same
    kind with the same field differences and reason, FOLDED_FROM or more. Adding a
    container to a network rewrites every hosts file on it the same way (1,000 lines at
    N=1,000), and changing a network's MTU every veth on it."""
    updates: dict[tuple[object, ...], list[Change]] = {}
    for change in changes:
        if change.action == "update":
            fields = tuple((f.field, shown(f.old), shown(f.new)) for f in change.fields)
            alike = (change.resource.KIND, fields, change.reason)
            updates.setdefault(alike, []).append(change)
    return {id(change): group for group in updates.values() if len(group) >= FOLDED_FROM
            for change in group}  # fmt: skip


def folded_line(group: list[Change]) -> str:
    """`~ hosts file /etc/netns/c0/hosts … c999/hosts (1000 alike): digest A → B`: the
    first and the last resource, the latter without the words they begin with alike."""
    first, last = group[0].resource.describe(), group[-1].resource.describe()
    common = next((i for i, (a, b) in enumerate(zip(first, last, strict=False))
                   if a != b),
                  min(len(first), len(last)))
    cut = max(first.rfind(" ", 0, common), first.rfind("/", 0, common)) + 1
    alike = f"{first} … {last[cut:]} ({len(group)} alike)"
    return change_line(group[0]).replace(first, alike, 1)


def change_json(change: Change) -> dict[str, Any]:
    resource = change.resource
    return {
        "action": change.action,
        "key": change.key,
        "kind": resource.KIND,
        "description": resource.describe(),
        "reason": change.reason,
        "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in change.fields],
        "implicit_delete": change.implicit_delete,
    }


def plans_json(topology: str, plans: Mapping[str, HostPlan]) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "topology": topology,
        "in_sync": all(p.empty for p in plans.values()),
        "hosts": {
            host: {
                "summary": host_plan.counts(),
                "steps": len(host_plan.steps),
                "conflicts": [{"what": c.what, "owner": c.owner} for c in host_plan.conflicts],
                "changes": [change_json(c) for c in host_plan.changes],
                "differences": host_plan.differences(),
            }
            for host, host_plan in plans.items()
        },
    }
