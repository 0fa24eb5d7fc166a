"""Drift or pending: why a host differs from its topology file. Pure, no I/O.

Three states of one host: what the file wants now (desired), what was desired at the
last apply (the last-applied record) and what the host has (observed). Each difference
between desired and observed is

- *drift* when observed differs from last-applied: someone changed the host;
- *pending* when desired differs from last-applied: someone changed the file;
- both, when both happened to the same field.

What the file compiles to also depends on the hosts (an underlay's MTU or address, a
volume's path): when the file is the one last applied, a desired state that differs from
the record's was changed by the hosts, and that is drift too. Without a record (never
applied by this version, destroyed, or no apply succeeded yet) every difference is
pending. A resource re-created only because of another one's delete (its parent's, or
an address of its device's: `Change.cause`), which differs in neither way itself, takes
that one's classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from netplan.agent.resources import Resource, field_names
from netplan.agent.state import HostState
from netplan.plan.changes import Change, HostPlan

Class = Literal["drift", "pending"]
ABSENT, PRESENT, MISSING, UNREAD = "absent", "present", "missing", "not observed"


@dataclass(frozen=True)
class Difference:
    """One `resource.field: desired X, observed Y` line, with why it is there."""

    key: str
    resource: Resource
    field: str | None
    """None: the whole resource (missing, unwanted, or re-created for a reason)."""
    desired: Any
    observed: Any
    classes: tuple[Class, ...]
    text: str

    @property
    def label(self) -> str:
        """`drift`, `pending` or `drift+pending`."""
        return "+".join(self.classes)


def classify(plan: HostPlan, last: HostState | None, file_changed: bool) -> list[Difference]:
    """Every difference of `plan` (made from desired and observed) with its classes,
    judged against `last`, the desired state of the last apply (None: no record), and
    whether the file differs from the one that apply was made from."""
    found: dict[str, tuple[Class, ...]] = {}
    result = []
    for change in plan.changes:  # sorted by ORDER: parents come before their children
        for field, desired, observed, text in _entries(change):
            classes = _classes(change.key, field, plan.desired, last, plan.observed)
            if last is not None and not file_changed and "pending" in classes:
                classes = ("drift",)
            if not classes and change.cause is not None:
                classes = found.get(change.cause, ())
            if not classes:
                classes = _inherited(change.resource, found, plan.observed)
            found[change.key] = _union(found.get(change.key, ()), classes)
            result.append(
                Difference(change.key, change.resource, field, desired, observed, classes, text)
            )
    return result


def _entries(change: Change) -> list[tuple[str | None, Any, Any, str]]:
    lines = change.differences()
    if change.action == "create":
        return [(None, PRESENT, UNREAD if change.reason else MISSING, lines[0])]
    if change.action == "delete":
        return [(None, ABSENT, PRESENT, lines[0])]
    if not change.fields:
        return [(None, None, None, lines[0])]
    return [(f.field, f.new, f.old, line) for f, line in zip(change.fields, lines, strict=True)]


def _classes(
    key: str, field: str | None, desired: HostState, last: HostState | None, observed: HostState
) -> tuple[Class, ...]:
    if last is None:
        return ("pending",)
    wanted = desired.resources.get(key)
    applied = last.resources.get(key)
    found = observed.resources.get(key)
    classes: list[Class] = []
    if not _same(applied, found, field):
        classes.append("drift")
    if not _same(wanted, applied, field):
        classes.append("pending")
    return tuple(classes)


def _same(reference: Resource | None, other: Resource | None, field: str | None) -> bool:
    """Equal as the planner compares: a field `reference` leaves as None is not compared."""
    if reference is None or other is None:
        return reference is other
    if type(reference) is not type(other):
        return False
    names = field_names(type(reference)) if field is None else (field,)
    for name in names:
        value = getattr(reference, name)
        if value is not None and value != getattr(other, name):
            return False
    return True


def _inherited(
    resource: Resource, found: dict[str, tuple[Class, ...]], observed: HostState
) -> tuple[Class, ...]:
    """The classes of the nearest ancestor that has some; drift if none does (the host
    differs from what was applied, and nothing in the file explains it)."""
    parent = resource.parent()
    while parent is not None:
        if found.get(parent):
            return found[parent]
        ancestor = observed.resources.get(parent)
        parent = ancestor.parent() if ancestor is not None else None
    return ("drift",)


def _union(a: tuple[Class, ...], b: tuple[Class, ...]) -> tuple[Class, ...]:
    return tuple(c for c in ("drift", "pending") if c in a or c in b)
