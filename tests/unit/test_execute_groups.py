"""Which steps execute runs one by one, and which run of namespaces it makes in parts."""

from __future__ import annotations

import pytest

from netplan.agent import execute, netns, split
from netplan.agent.resources import ROOT, Address, HostsFile, Netns
from netplan.agent.state import Step


def make(name: str) -> Step:
    return Step("create", Netns(name))


def other(name: str) -> Step:
    return Step("create", Address(ROOT, name, "10.0.0.1/24"))


def rewrite(name: str) -> Step:
    return Step("update", HostsFile(name, "10.0.0.1 x\n"), ("digest",))


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
    ([rewrite("a"), rewrite("b"), rewrite("c")], 1, [[0, 1, 2]]),  # hosts files: any CPUs
    ([other("x"), rewrite("a"), rewrite("b"), other("y"), rewrite("c")], 2,
     [[0], [1, 2], [3], [4]]),
    ([make("a"), make("b"), make("c"), make("d"), rewrite("a"), rewrite("b")], 2,
     [[0, 1, 2, 3], [4, 5]]),
    ([Step("create", HostsFile("a", "")), Step("delete", HostsFile("b")), rewrite("c")], 2,
     [[0], [1], [2]]),  # rewrites only
])  # fmt: skip
def test_a_long_enough_run_of_namespaces_to_make_and_a_run_of_rewrites_are_groups(
        steps: list[Step], cpus: int, groups: list[list[int]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns, "NAMESPACES_PER_PROCESS", 2)
    monkeypatch.setattr(split, "cpus", lambda: cpus)
    found = [[start + i for i in range(len(group))] for start, group in execute._groups(steps)]
    assert found == groups
    assert [s for _, group in execute._groups(steps) for s in group] == steps
