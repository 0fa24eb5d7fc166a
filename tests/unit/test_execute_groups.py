"""Which steps execute runs one by one, and which run of namespaces it makes in parts."""

from __future__ import annotations

import pytest

from netplan.agent import execute, netns, split
from netplan.agent.resources import ROOT, Address, Netns
from netplan.agent.state import Step


def make(name: str) -> Step:
    return Step("create", Netns(name))


def other(name: str) -> Step:
    return Step("create", Address(ROOT, name, "10.0.0.1/24"))


@pytest.mark.parametrize(("steps", "cpus", "groups"), [
    ([], 2, []),
    ([make("a"), make("b"), make("c"), make("d")], 2, [[0, 1, 2, 3]]),
    ([make("a"), make("b"), make("c"), make("d")], 1, [[0], [1], [2], [3]]),  # one CPU
    ([make("a"), make("b"), make("c")], 2, [[0], [1], [2]]),  # too few to be worth a fork
    ([other("x"), make("a"), make("b"), make("c"), make("d"), other("y")], 2,
     [[0], [1, 2, 3, 4], [5]]),
    ([make("a"), other("x"), make("b"), make("c"), make("d"), make("e")], 2,
     [[0], [1], [2, 3, 4, 5]]),
    ([Step("delete", Netns(n)) for n in "abcd"], 2, [[0], [1], [2], [3]]),  # makes only
])  # fmt: skip
def test_a_long_enough_run_of_namespaces_to_make_is_one_group(
        steps: list[Step], cpus: int, groups: list[list[int]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns, "NAMESPACES_PER_PROCESS", 2)
    monkeypatch.setattr(split, "cpus", lambda: cpus)
    found = [[start + i for i in range(len(group))] for start, group in execute._groups(steps)]
    assert found == groups
    assert [s for _, group in execute._groups(steps) for s in group] == steps
