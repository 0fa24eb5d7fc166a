"""field_changes: the compared fields that differ, in the kind's field order, a field
the topology leaves as None not compared; read through one getter per kind."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

import pytest

from netplan.agent.resources import Bridge, HostsFile, Kernel, Resource
from netplan.plan.changes import FieldChange
from netplan.plan.diff import compared_values, field_changes

BRIDGE = Bridge("br-n", "n", mtu=1500)


@dataclass(frozen=True)
class OneField(Kernel):
    """A kind with a single compared field: its getter still reads a tuple."""

    MUTABLE: ClassVar[frozenset[str]] = frozenset({"value"})

    value: int | None
    note: str = field(default="", compare=False)


CASES: dict[str, tuple[Resource, Resource, tuple[FieldChange, ...]]] = {
    "equal": (BRIDGE, BRIDGE, ()),
    "one field": (BRIDGE, replace(BRIDGE, mtu=1400), (FieldChange("mtu", 1400, 1500),)),
    "fields in the kind's order": (
        replace(BRIDGE, up=False), replace(BRIDGE, mtu=1400),
        (FieldChange("mtu", 1400, 1500), FieldChange("up", True, False))),
    "None desired is not compared": (replace(BRIDGE, mtu=None), replace(BRIDGE, mtu=1400), ()),
    "hosts file digest": (
        HostsFile("a", "x\n"), HostsFile("a", digest="old"),
        (FieldChange("digest", "old", HostsFile("a", "x\n").digest),)),
    "single compared field": (OneField(2), OneField(1, "ignored"), (FieldChange("value", 1, 2),)),
    "single compared field, equal": (OneField(1, "a"), OneField(1, "b"), ()),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_field_changes(case: tuple[Resource, Resource, tuple[FieldChange, ...]]) -> None:
    desired, observed, expected = case
    assert field_changes(desired, observed) == expected


def test_compared_values_reads_every_compared_field_as_a_tuple() -> None:
    names, values = compared_values(OneField)
    assert (names, values(OneField(3, "n"))) == (("value",), (3,))
    names, values = compared_values(Bridge)
    assert values(BRIDGE) == tuple(getattr(BRIDGE, name) for name in names)
