"""Which unclaimed root-namespace links are a topology's stray links (netplan/agent/stray.py),
table-driven: the links no observer took, in; stray links out."""

from __future__ import annotations

import pytest

from netplan.agent import stray
from netplan.agent.links import Link, making_group
from netplan.agent.resources import StrayLink

ELSEWHERE = ("a veth host end whose other end is in none of the topology's namespaces: in "
             "one without a name, or someone else's")


def link(name: str, kind: str = "veth", alias: str | None = None, peer_netnsid: int | None = 3,
         group: int = 0) -> Link:
    return Link(index=7, name=name, kind=kind, alias=alias, up=True, mtu=1500,
                mac="02:00:00:00:00:01", master=0, peer_index=2, peer_netnsid=peer_netnsid,
                group=group)


CASES = {
    "a container's host end, its namespace deleted under its process": (
        link("veth1", alias="netplan:t:front:web"),
        [StrayLink("veth1", "veth", ELSEWHERE, "front", "web")]),
    "a host end whose other end was moved to the root namespace": (
        link("veth1", alias="netplan:t:front:web", peer_netnsid=None),
        [StrayLink("veth1", "veth", "a veth host end whose other end is in the root "
                   "namespace, not in a container", "front", "web")]),
    "a dummy someone marked as the topology's network": (
        link("dummy0", kind="dummy", alias="netplan:t:front"),
        [StrayLink("dummy0", "dummy", "carries this topology's marker but is none of its "
                   "bridges, veths, tunnels or VLAN links", "front")]),
    "a host end left half made (its making group, no marker)": (
        link("veth1", group=making_group("t")), [StrayLink("veth1", "veth", ELSEWHERE)]),
    "another topology's host end": (link("veth1", alias="netplan:other:front:web"), []),
    "another topology's half-made link": (link("veth1", group=making_group("other")), []),
    "an unmarked link": (link("eth0", kind=""), []),
    "an alias that is no marker": (link("eth0", kind="", alias="uplink"), []),
}


@pytest.mark.parametrize(("found", "strays"), CASES.values(), ids=CASES.keys())
def test_stray_links(found: Link, strays: list[StrayLink]) -> None:
    assert stray.observe("t", [found]) == strays
