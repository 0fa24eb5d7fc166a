"""The journal's undo lists for a rollback: the undo of a step that rewrote a shared hosts
file in place puts back the file of every name it had whose own step did not run."""

from __future__ import annotations

import pytest

from netplan.agent.journal import Journal
from netplan.agent.resources import HostsFile, Netns
from netplan.agent.state import Step

OLD = "10.0.0.1 old\n"
NEW = "10.0.0.2 new\n"


def put_back(netns: str) -> Step:
    """The undo the controller sends for a hosts file's update (content unknown to it)."""
    return Step("update", HostsFile(netns, digest="observed"), ("digest",))


def old_text(netns: str) -> Step:
    return Step("update", HostsFile(netns, OLD), ("digest",))


UNDO = [[put_back("a")], [put_back("b")], [put_back("c")], [put_back("d")],
        [Step("create", Netns("e")), Step("create", HostsFile("e", digest="observed"))]]
"""Steps: update a, b, c, d to NEW, delete e's namespace; all five names of one file."""

CASES = {
    "refused third: the first step's undo covers the names that never ran": (
        [0, 1], {"a": ["a", "b", "c", "d", "e"]},
        [[old_text("b")], [old_text("a"), old_text("c"), old_text("d"), old_text("e")]]),
    "every step done: each name is undone by its own step only": (
        [0, 1, 2, 3, 4], {"a": ["a", "b", "c", "d", "e"]},
        [[Step("create", Netns("e")), Step("create", HostsFile("e", OLD))],
         [old_text("d")], [old_text("c")], [old_text("b")], [old_text("a")]]),
    "no file rewritten in place: nothing added": (
        [0, 1], {}, [[old_text("b")], [old_text("a")]]),
    "the file rewritten in place by a later step: added to that step's undo": (
        [0, 1], {"b": ["b", "c"]}, [[old_text("b"), old_text("c")], [old_text("a")]]),
}


@pytest.mark.parametrize(("done", "rewrites", "expected"), CASES.values(), ids=CASES.keys())
def test_steps_to_undo(done: list[int], rewrites: dict[str, list[str]],
                       expected: list[list[Step]]) -> None:
    journal = Journal(UNDO, done=done, shared_rewrites=rewrites,
                      hosts_files={n: OLD.encode() for n in "abcde"})
    found = journal.steps_to_undo()
    assert found == expected
    assert contents(found) == contents(expected)  # which Step's == leaves out


def contents(todo: list[list[Step]]) -> list[list[str]]:
    return [[getattr(s.resource, "content", "") for s in steps] for steps in todo]
