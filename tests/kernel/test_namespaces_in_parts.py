"""A run of namespaces to make is made in one process per CPU (netns.create_in_parts):
the same namespaces as one by one, and a failure in one part names its step, keeps the
other parts' namespaces noted done, and is undone by the rollback."""

from __future__ import annotations

import os
from typing import Any

import pytest

from netplan.agent import journal as journal_module
from netplan.agent import netns, transaction
from netplan.agent.api import StepFailed, handle
from netplan.agent.resources import Netns, Resource, netns_marker
from netplan.agent.state import PROTOCOL_VERSION, Step
from netplan.rollback import StepCounts, step_counts
from tests.kernel.kernel_helpers import (
    container,
    ip,
    keyed,
    netns_names,
    network,
    owned,
    sh,
    splits_counted,
)

NAMES = [f"p{n}" for n in range(2, 10)]


@pytest.fixture
def in_three_parts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Eight namespaces split in three parts; the parts of each split, as they happen."""
    monkeypatch.setattr(netns, "NAMESPACES_PER_PROCESS", 2)
    return splits_counted(monkeypatch, cpus=3)


def _steps(resources: list[Resource]) -> list[Step]:
    """Creates in a plan's order: every namespace first."""
    first = [r for r in resources if isinstance(r, Netns)]
    return [Step("create", r) for r in first + [r for r in resources if r not in first]]


def test_namespaces_made_in_parts_are_the_ones_asked_for(topology: str,
                                                        in_three_parts: list[int]) -> None:
    wanted = [*network()]
    for host, name in enumerate(NAMES, start=2):
        wanted += container(name, host=host)
    transaction.apply(topology, _steps(wanted), None, rollback=False, confirm=None)
    assert in_three_parts[0] == 3
    assert set(NAMES) <= netns_names()
    for host, name in enumerate(NAMES, start=2):
        lo = ip("link", "show", "lo", netns=name)[0]
        assert lo["ifalias"] == netns_marker(topology)
        assert "UP" in lo["flags"]
        peer = 2 + (host - 1) % len(NAMES)  # the next container, across parts
        sh(f"ip netns exec {name} ping -c1 -W2 172.31.0.{peer}")
    assert owned(topology) == keyed(*wanted)  # a second plan would be empty


def test_a_failed_part_names_its_step_and_the_rollback_removes_every_part(
        topology: str, in_three_parts: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    sh("ip netns add p6")  # someone else's: the second of the second part's namespaces
    undone: list[list[int]] = []
    steps_to_undo = journal_module.Journal.steps_to_undo

    def seen(journal: journal_module.Journal) -> list[list[Step]]:
        undone.append(sorted(journal.done))
        return steps_to_undo(journal)

    monkeypatch.setattr(journal_module.Journal, "steps_to_undo", seen)
    try:
        with pytest.raises(StepFailed) as failed:
            undo = [[Step("delete", Netns(name))] for name in NAMES]
            transaction.apply(topology, _steps([Netns(name) for name in NAMES]), undo,
                              rollback=True, confirm=None)
        assert str(failed.value) == "step 5: cannot create netns p6: already exists"
        assert in_three_parts == [3]
        assert failed.value.rollback is not None
        assert (failed.value.rollback["undone"], failed.value.rollback["failures"]) == (6, [])
        assert undone == [[0, 1, 2, 3, 6, 7]]  # p7 came after p6 in its part: not made
        assert netns_names() & set(NAMES) == {"p6"}
        assert ip("link", "show", "lo", netns="p6")[0].get("ifalias") is None
        assert owned(topology) == {}
    finally:
        sh("ip netns del p6")


def test_without_rollback_the_summary_counts_the_namespaces_made_past_the_failed_step(
        topology: str, in_three_parts: list[int]) -> None:
    """Step 5 (p6) fails, and the third part makes p8 and p9 side by side: 6 done, as the
    agent's journal saw them, not the 4 before the failed step."""
    sh("ip netns add p6")
    try:
        request = {"version": PROTOCOL_VERSION, "op": "apply", "topology": topology,
                   "steps": [Step("create", Netns(name)).to_json() for name in NAMES],
                   "rollback": False}  # fmt: skip
        error = handle(request)["error"]
        assert error["step"] == 4 and in_three_parts == [3]
        assert step_counts(error) == StepCounts(6, 1, 0)
        assert netns_names() & set(NAMES) == {"p2", "p3", "p4", "p5", "p6", "p8", "p9"}
    finally:
        sh("ip netns del p6")
    undo = [Step("delete", Netns(name)) for name in NAMES if name not in ("p6", "p7")]
    transaction.apply(topology, undo, None, rollback=False, confirm=None)
    assert owned(topology) == {}


def test_a_part_whose_process_dies_is_found_out_and_rolled_back(
        topology: str, in_three_parts: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """The third part's process dies (as if killed) after making its first namespace: the
    namespaces there now are noted done, the first missing one fails, and the rollback
    removes them all."""
    make_part = netns._make_part

    def dying(session: Any, home: int, namespaces: Any) -> Any:
        if namespaces[0].name == "p8":
            make_part(session, home, namespaces[:1])
            os._exit(9)
        return make_part(session, home, namespaces)

    monkeypatch.setattr(netns, "_make_part", dying)
    undo = [[Step("delete", Netns(name))] for name in NAMES]
    with pytest.raises(StepFailed) as failed:
        transaction.apply(topology, _steps([Netns(name) for name in NAMES]), undo,
                          rollback=True, confirm=None)
    assert str(failed.value).startswith("step 8: cannot create netns p9: ")
    assert in_three_parts == [3]
    assert failed.value.rollback is not None
    assert (failed.value.rollback["undone"], failed.value.rollback["failures"]) == (7, [])
    assert netns_names() & set(NAMES) == set()
    assert owned(topology) == {}
