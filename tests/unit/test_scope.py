"""Verifying an apply looks inside the namespaces it changed, and into the root namespace
only if it changed something there, and takes the rest from the observation the plan was
made from (netplan/plan/scope.py)."""

from __future__ import annotations

import pytest

from netplan.agent.resources import (
    ROOT,
    Address,
    Bridge,
    HostsFile,
    Netns,
    Resource,
    Route,
    Veth,
    link_key,
)
from netplan.agent.state import Facts, HostState
from netplan.plan.order import plan_host
from netplan.plan.scope import Scope, namespace_of, scope_of, with_untouched, within


def state(*resources: Resource, foreign: dict[str, str] | None = None) -> HostState:
    result = HostState(foreign=dict(foreign or {}))
    for resource in resources:
        result.add(resource)
    return result


def container(name: str, address: str) -> list[Resource]:
    return [
        Netns(name),
        Veth(netns=name, name="eth0", peer=f"v-{name}", bridge="br0", container=name,
             network="front", mac="02:42:0a:00:00:02", mtu=1500),
        Address(netns=name, dev="eth0", cidr=address),
        Route(netns=name, dst="0.0.0.0/0", dev="eth0", gateway="10.0.0.1"),
        HostsFile(name, "127.0.0.1 localhost\n"),
    ]


@pytest.mark.parametrize(("resource", "namespace"), [
    (Netns("a"), "a"),
    (Address(netns="a", dev="eth0", cidr="10.0.0.2/24"), "a"),
    (Address(netns=ROOT, dev="br0", cidr="10.0.0.1/24"), None),
    (Bridge("br0", "front"), None),
    (HostsFile("a"), None),  # a file: read whole by every observation
])  # fmt: skip
def test_the_namespace_whose_dump_shows_a_resource(resource: Resource,
                                                   namespace: str | None) -> None:
    assert namespace_of(resource) == namespace


def test_adding_a_container_touches_its_namespace_only() -> None:
    """Its veth's host end is read with the namespace: the root namespace is not read."""
    before = state(Bridge("br0", "front"), *container("a", "10.0.0.2/24"))
    desired = state(Bridge("br0", "front"), *container("a", "10.0.0.2/24"),
                    *container("b", "10.0.0.3/24"), HostsFile("a", "10.0.0.3 b\n"))
    assert scope_of(plan_host("h", desired, before)) == Scope(["b"], root=False)


def test_a_bridge_step_touches_every_namespace() -> None:
    """A veth's bridge is read from its root-namespace end."""
    before = state(Bridge("br0", "front"), *container("a", "10.0.0.2/24"))
    desired = state(Bridge("br0", "front", mtu=9000), *container("a", "10.0.0.2/24"))
    assert scope_of(plan_host("h", desired, before)) == Scope(None, root=True)


def test_a_root_namespace_step_touches_the_root_namespace() -> None:
    before = state(Bridge("br0", "front"), *container("a", "10.0.0.2/24"))
    desired = state(Bridge("br0", "front"), *container("a", "10.0.0.2/24"),
                    Address(netns=ROOT, dev="br0", cidr="10.0.0.1/24"))
    assert scope_of(plan_host("h", desired, before)) == Scope([], root=True)


def test_a_plan_in_sync_touches_nothing() -> None:
    same = state(Bridge("br0", "front"), *container("a", "10.0.0.2/24"))
    assert scope_of(plan_host("h", same, same)) == Scope([], root=False)


def test_untouched_namespaces_and_their_holders_come_from_before() -> None:
    before = state(Bridge("br0", "front"), *container("a", "10.0.0.2/24"),
                   foreign={"netns:theirs": "is not managed by netplan",
                            "netns:b": "is not managed by netplan",
                            "link:/eth9": "is not managed by netplan"})
    after = state(Bridge("br0", "front"), *container("b", "10.0.0.3/24"),
                  HostsFile("a", "127.0.0.1 localhost\n"),
                  foreign={"link:/eth8": "is not managed by netplan",
                           # a's host end: the agent did not look inside a this time
                           link_key(ROOT, "v-a"): "carries this topology's marker but ..."})
    merged = with_untouched(before, after, Scope(["b"], root=True))
    assert merged.resources == state(Bridge("br0", "front"), *container("a", "10.0.0.2/24"),
                                     *container("b", "10.0.0.3/24")).resources
    # Root-namespace holders are read again; namespace b was looked into again.
    assert merged.foreign == {"netns:theirs": "is not managed by netplan",
                              "link:/eth8": "is not managed by netplan"}


def test_a_deleted_namespace_is_not_brought_back_from_before() -> None:
    before = state(*container("a", "10.0.0.2/24"), *container("b", "10.0.0.3/24"))
    after = state(HostsFile("a", "127.0.0.1 localhost\n"))
    merged = with_untouched(before, after, Scope(["b"], root=True))
    assert merged.resources == state(*container("a", "10.0.0.2/24")).resources


def test_everything_touched_is_the_new_observation_alone() -> None:
    after = state(*container("b", "10.0.0.3/24"))
    everything = Scope(None, root=True)
    assert with_untouched(state(*container("a", "10.0.0.2/24")), after, everything) is after


def test_without_the_root_namespace_its_objects_holders_and_facts_come_from_before() -> None:
    gateway = Address(netns=ROOT, dev="br0", cidr="10.0.0.1/24")
    before = state(Bridge("br0", "front"), gateway, *container("a", "10.0.0.2/24"),
                   foreign={"link:/eth9": "is not managed by netplan",
                            "hosts:theirs": "is not managed by netplan"})
    before.facts = Facts(roster=("h",))
    after = state(*container("b", "10.0.0.3/24"), HostsFile("a", "10.0.0.3 b\n"),
                  foreign={"hosts:other": "is not managed by netplan"})
    merged = with_untouched(before, after, Scope(["b"], root=False))
    assert merged.resources == state(Bridge("br0", "front"), gateway,
                                     *container("a", "10.0.0.2/24"),
                                     *container("b", "10.0.0.3/24"),
                                     HostsFile("a", "10.0.0.3 b\n")).resources
    # Root holders are kept; files are read whole again, so their holders are after's.
    assert merged.foreign == {"link:/eth9": "is not managed by netplan",
                              "hosts:other": "is not managed by netplan"}
    assert merged.facts == before.facts


def test_verify_compares_what_the_scope_reads() -> None:
    """An add's verify: namespace b, the hosts files and every holder; not namespace a,
    nor the root namespace's objects, which the plan compared already."""
    gateway = Address(netns=ROOT, dev="br0", cidr="10.0.0.1/24")
    whole = state(Bridge("br0", "front"), gateway, *container("a", "10.0.0.2/24"),
                  *container("b", "10.0.0.3/24"), foreign={"link:/eth9": "is not managed"})
    part = within(whole, Scope(["b"], root=False))
    assert part.resources == state(*container("b", "10.0.0.3/24"),
                                   HostsFile("a", "127.0.0.1 localhost\n")).resources
    assert part.foreign == whole.foreign
    with_root = within(whole, Scope(["b"], root=True)).resources
    assert set(with_root) == set(part.resources) | {Bridge("br0", "front").key, gateway.key}
    assert within(whole, Scope(None, root=True)) is whole


def test_a_difference_within_the_scope_fails_verify() -> None:
    desired = state(Bridge("br0", "front"), *container("a", "10.0.0.2/24"),
                    *container("b", "10.0.0.3/24"))
    drifted = state(Bridge("br0", "front"), *container("a", "10.0.0.2/24"),
                    *container("b", "10.0.0.9/24"))
    scope = Scope(["b"], root=False)
    assert not plan_host("h", within(desired, scope), within(drifted, scope)).empty
    assert plan_host("h", within(desired, scope), within(desired, scope)).empty
