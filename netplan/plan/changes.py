"""What a plan is made of: per resource a Change (with its reason), per host a HostPlan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from netplan.agent.resources import Resource
from netplan.agent.state import HostState, Step

Action = Literal["create", "update", "delete", "replace"]

SYMBOLS: dict[Action, str] = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}


def shown(value: Any) -> str:
    """A field's value for people: one the resource lacks (None, or an empty name such
    as a veth's bridge when its host end is on none) reads `none`."""
    return "none" if value is None or value == "" else str(value)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Change:
    """One resource's difference between the topology (desired) and the host (observed)."""

    action: Action
    key: str
    desired: Resource | None
    observed: Resource | None
    fields: tuple[FieldChange, ...] = ()
    reason: str = ""
    implicit_delete: bool = False
    """The kernel removes the observed resource along with its parent: no step of its own."""
    cause: str | None = None
    """For a resource re-created although it does not differ itself: the key of the one
    whose delete makes the kernel take it (its parent, or an address of its device)."""

    @property
    def resource(self) -> Resource:
        resource = self.desired or self.observed
        assert resource is not None
        return resource

    def differences(self) -> list[str]:
        """`resource.field: desired X, observed Y` lines, as check and verify report them."""
        name = self.key
        if self.action == "create":
            return [f"{name}: desired present, {self.reason or 'observed missing'}"]
        if self.action == "delete":
            why = f" ({self.reason})" if self.reason and not self.implicit_delete else ""
            return [f"{name}: desired absent, observed present{why}"]
        if not self.fields:
            return [f"{name}: {self.reason}"]
        return [f"{name}.{f.field}: desired {shown(f.new)}, observed {shown(f.old)}"
                for f in self.fields]


@dataclass(frozen=True)
class Conflict:
    """A name the topology needs that an object netplan does not own already holds; or,
    with a `hint` of its own, something of the topology that what others have on the
    host overlaps (a subnet, a published port)."""

    what: str
    owner: str
    hint: str = ""
    """What to do; empty for a name held, whose hint is always the same."""

    def refusal(self) -> str:
        """Why an apply changes nothing, and what to do."""
        if not self.hint:
            return (f"{self.what} already exists and {self.owner}; nothing was changed "
                    "(hint: rename it in the topology, or remove the existing object yourself)")
        return f"{self.what} {self.owner}; nothing was changed (hint: {self.hint})"


@dataclass
class HostPlan:
    host: str
    changes: list[Change] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    desired: HostState = field(default_factory=HostState, repr=False)
    observed: HostState = field(default_factory=HostState, repr=False)
    """What the plan was made from: check classifies its differences against the
    last-applied record, and a saved plan fingerprints the observed state."""

    @property
    def empty(self) -> bool:
        return not self.changes and not self.conflicts

    def counts(self) -> dict[Action, int]:
        result: dict[Action, int] = {"create": 0, "update": 0, "replace": 0, "delete": 0}
        for change in self.changes:
            result[change.action] += 1
        return result

    def differences(self) -> list[str]:
        return [line for change in self.changes for line in change.differences()]
