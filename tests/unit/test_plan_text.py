"""How a plan reads (render_plans): updates alike, from FOLDED_FROM on, are one line at
the first of them; everything else is one line per change, in the plan's order."""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import pytest

from netplan.agent.resources import HostsFile, Netns, Resource, Veth
from netplan.plan.changes import Change, HostPlan
from netplan.plan.diff import compare
from netplan.report import render_plans


def hosts(netns: str, text: str) -> HostsFile:
    return HostsFile(netns, content=f"10.0.0.2 {text}\n")


def updated(desired: Resource, observed: Resource) -> Change:
    change = compare(desired.key, desired, observed)
    assert change is not None
    return change


def rewritten(*names: str, old: str = "a", new: str = "a b") -> list[Change]:
    return [updated(hosts(n, new), hosts(n, old)) for n in names]


def veth(container: str, mtu: int) -> Veth:
    return Veth(container, "eth0", f"veth{container}", "br-n", container, "n", mtu=mtu)


OLD, NEW = hosts("x", "a").digest[:16], hosts("x", "a b").digest[:16]


class Case(NamedTuple):
    changes: list[Change]
    lines: list[str]


CASES = {
    "three alike stay apart": Case(rewritten("c0", "c1", "c2"), [
        f"~ hosts file /etc/netns/c0/hosts: digest {OLD} → {NEW}",
        f"~ hosts file /etc/netns/c1/hosts: digest {OLD} → {NEW}",
        f"~ hosts file /etc/netns/c2/hosts: digest {OLD} → {NEW}",
    ]),
    "four alike fold at the first": Case(
        [Change("create", "netns:c4", Netns("c4"), None), *rewritten("c0", "c1", "c2", "c3")],
        ["+ netns c4",
         f"~ hosts file /etc/netns/c0/hosts … c3/hosts (4 alike): digest {OLD} → {NEW}"],
    ),
    "different differences fold apart, in order": Case(
        [*rewritten("a1", "a2", "b1", "b2"), *rewritten("c1", "c2", "c3", "c4", new="a c")],
        [f"~ hosts file /etc/netns/a1/hosts … b2/hosts (4 alike): digest {OLD} → {NEW}",
         f"~ hosts file /etc/netns/c1/hosts … c4/hosts (4 alike): digest {OLD} → "
         f"{hosts('x', 'a c').digest[:16]}"],
    ),
    "another kind alike": Case(
        [updated(veth(c, 9000), veth(c, 1500)) for c in ("web", "db", "cache", "queue")],
        ["~ veth web/eth0 … queue/eth0 (4 alike): mtu 1500 → 9000"],
    ),
    "a create and a delete never fold": Case(
        [Change("create", f"netns:n{i}", Netns(f"n{i}"), None) for i in range(4)]
        + [Change("delete", f"netns:o{i}", None, Netns(f"o{i}")) for i in range(4)],
        [*(f"+ netns n{i}" for i in range(4)), *(f"- netns o{i}" for i in range(4))],
    ),
    "same fields, another reason": Case(
        [*rewritten("c0", "c1", "c2", "c3"),
         replace(rewritten("c4")[0], reason="hand-edited")],
        [f"~ hosts file /etc/netns/c0/hosts … c3/hosts (4 alike): digest {OLD} → {NEW}",
         f"~ hosts file /etc/netns/c4/hosts: digest {OLD} → {NEW}  (hand-edited)"],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_updates_alike_read_as_one_line(case: Case) -> None:
    rendered = render_plans({"h1": HostPlan("h1", case.changes)})
    assert [text for text, _ in rendered[1:]] == ["  " + line for line in case.lines]
