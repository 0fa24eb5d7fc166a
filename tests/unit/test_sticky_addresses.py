"""Sticky addresses come from the last-applied record (Facts.addresses), table-driven: an
address changed behind netplan's back is drift, put back by apply; the address a container
has now is kept only when the record does not know it; a static address another container
still in the file keeps (the record's, or without one the address it has) is refused
("Address already in use")."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any, NamedTuple

import pytest

from netplan.agent.resources import Address, Veth
from netplan.agent.state import Facts, HostState
from netplan.compile import compile_topology
from netplan.errors import TopologyError
from netplan.gate.classify import classify
from netplan.gate.record import LastApplied, Source, address_table
from netplan.ipam import Request, allocate, make_pool
from netplan.plan.changes import HostPlan
from netplan.plan.order import plan_host
from netplan.topology.model import Topology

NETWORKS = {"front": {"subnet": "10.0.0.0/24"}}
FIRST = {"a": {"networks": ["front"]}, "b": {"networks": ["front"]}, "c": {"networks": ["front"]}}
"""The file of the first apply: a, b and c get .2, .3 and .4 (the gateway is .1)."""


def topology(containers: dict[str, Any]) -> Topology:
    return Topology.model_validate({"name": "t", "networks": NETWORKS, "containers": containers})


def applied() -> HostState:
    return compile_topology(topology(FIRST), {"local": HostState()})["local"]


def observed(record: tuple[str, ...] | None, changed: dict[str, str | None]) -> HostState:
    """The host after the first apply, with the addresses in `changed` (container → host
    part, None: deleted) changed by hand; its agent returns the record's addresses of the
    containers in `record` (None: no record)."""
    first = applied()
    state = HostState(resources=dict(first.resources))
    for container, host_part in changed.items():
        [old] = [r for r in state.resources.values()
                 if isinstance(r, Address) and r.netns == container]  # fmt: skip
        del state.resources[old.key]
        if host_part is not None:
            state.add(Address(container, old.dev, f"10.0.0.{host_part}/24"))
    if record is not None:
        table = {c: n for c, n in address_table(first).items() if c in record}
        state.facts = Facts(addresses=table)
    return state


def desired_addresses(desired: HostState) -> dict[str, str]:
    return {r.netns: str(IPv4Interface(r.cidr).ip) for r in desired.resources.values()
            if isinstance(r, Address) and r.netns}  # fmt: skip


class Case(NamedTuple):
    containers: dict[str, Any]
    """The file at the second plan."""
    record: tuple[str, ...] | None
    """The containers the record knows (None: no record, e.g. applied by an older netplan)."""
    changed: dict[str, str | None]
    expected: dict[str, str]
    """container → desired address."""
    steps: list[str]
    """The address steps of the plan."""


ALL = ("a", "b", "c")
KEPT = {"a": "10.0.0.2", "b": "10.0.0.3", "c": "10.0.0.4"}

CASES = {
    "an address changed by hand is put back": Case(
        FIRST, ALL, {"b": "200"}, KEPT,
        ["delete addr:b/eth0/10.0.0.200/24", "create addr:b/eth0/10.0.0.3/24"],
    ),
    "an address deleted by hand comes back, though another container took it": Case(
        FIRST, ALL, {"a": None, "b": "2"}, KEPT,
        ["delete addr:b/eth0/10.0.0.2/24", "create addr:a/eth0/10.0.0.2/24",
         "create addr:b/eth0/10.0.0.3/24"],
    ),
    "without a record the address a container has is kept": Case(
        FIRST, None, {"b": "200"}, {**KEPT, "b": "10.0.0.200"}, [],
    ),
    "a container the record does not know keeps the address it has": Case(
        FIRST, ("a", "b"), {"c": "9"}, {**KEPT, "c": "10.0.0.9"}, [],
    ),
    "the file grows and is reordered: recorded addresses stay": Case(
        {"new": {"networks": ["front"]}, **dict(reversed(FIRST.items()))}, ALL, {},
        {**KEPT, "new": "10.0.0.5"}, ["create addr:new/eth0/10.0.0.5/24"],
    ),
    "both addresses given: a takes b's recorded one, b moves to its own": Case(
        {**FIRST, "a": {"networks": {"front": {"ipv4": "10.0.0.3"}}},
         "b": {"networks": {"front": {"ipv4": "10.0.0.9"}}}}, ALL, {},
        {"a": "10.0.0.3", "b": "10.0.0.9", "c": "10.0.0.4"},
        ["delete addr:a/eth0/10.0.0.2/24", "delete addr:b/eth0/10.0.0.3/24",
         "create addr:a/eth0/10.0.0.3/24", "create addr:b/eth0/10.0.0.9/24"],
    ),
    "the recorded address of a container that left the file is free to take": Case(
        {"a": {"networks": {"front": {"ipv4": "10.0.0.3"}}}, "c": FIRST["c"]}, ALL, {},
        {"a": "10.0.0.3", "c": "10.0.0.4"},
        ["delete addr:a/eth0/10.0.0.2/24", "create addr:a/eth0/10.0.0.3/24"],
    ),
    "a container's own recorded address, now written as its static one": Case(
        {**FIRST, "b": {"networks": {"front": {"ipv4": "10.0.0.3"}}}}, ALL, {}, KEPT, [],
    ),
    "without a record, both addresses given: a takes the one c has, c moves to its own": Case(
        {**FIRST, "a": {"networks": {"front": {"ipv4": "10.0.0.4"}}},
         "c": {"networks": {"front": {"ipv4": "10.0.0.9"}}}}, None, {},
        {"a": "10.0.0.4", "b": "10.0.0.3", "c": "10.0.0.9"},
        ["delete addr:a/eth0/10.0.0.2/24", "delete addr:c/eth0/10.0.0.4/24",
         "create addr:a/eth0/10.0.0.4/24", "create addr:c/eth0/10.0.0.9/24"],
    ),
}  # fmt: skip


def plan_of(case: Case) -> HostPlan:
    state = observed(case.record, case.changed)
    desired = compile_topology(topology(case.containers), {"local": state})["local"]
    return plan_host("local", desired, state)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_sticky_addresses(case: Case) -> None:
    plan = plan_of(case)
    assert desired_addresses(plan.desired) == case.expected
    steps = [f"{s.op} {s.resource.key}" for s in plan.steps if isinstance(s.resource, Address)]
    assert sorted(steps) == sorted(case.steps)
    after = HostState(resources=dict(plan.observed.resources), facts=plan.observed.facts)
    for change in plan.changes:
        if change.action == "delete":
            del after.resources[change.key]
        else:
            assert change.desired is not None
            after.add(change.desired)
    again = compile_topology(topology(case.containers), {"local": after})["local"]
    assert plan_host("local", again, after).empty


def test_a_changed_address_is_drift_and_only_its_route_goes_with_it() -> None:
    """check: the two address differences are drift, and so is the route re-created
    around them; the MAC and the hosts files follow the recorded address, so they do not
    differ at all."""
    plan = plan_of(CASES["an address changed by hand is put back"])
    found = {d.text: d.classes for d in classify(plan, applied(), file_changed=False)}
    assert found == {
        "addr:b/eth0/10.0.0.200/24: desired absent, observed present": ("drift",),
        "addr:b/eth0/10.0.0.3/24: desired present, observed missing": ("drift",),
        "route:b/default: recreated: the kernel may delete it with address 10.0.0.200/24"
        " on b/eth0": ("drift",),
    }
    assert not [c for c in plan.changes if isinstance(c.resource, Veth)]


def test_the_record_carries_the_address_table() -> None:
    record = LastApplied.now(applied(), Source("t.yaml", "sha256:" + "0" * 64))
    assert record.addresses == {"a": {"front": "10.0.0.2"}, "b": {"front": "10.0.0.3"},
                                "c": {"front": "10.0.0.4"}}  # fmt: skip
    data = record.to_json()
    assert data["addresses"] == record.addresses
    read = LastApplied.from_json(data)
    assert read is not None and read.addresses == record.addresses
    del data["addresses"]  # a record written by an older netplan
    older = LastApplied.from_json(data)
    assert older is not None and older.addresses == {}


@pytest.mark.parametrize(
    ("facts", "json"),
    [
        (Facts(), {}),
        (Facts(addresses={"a": {"front": "10.0.0.2"}}),
         {"addresses": {"a": {"front": "10.0.0.2"}}}),
    ],
)
def test_facts_json_keeps_addresses_optional(facts: Facts, json: dict[str, Any]) -> None:
    assert facts.to_json() == json
    assert Facts.from_json(json) == facts


def test_unreadable_recorded_addresses_fall_back_to_what_the_host_has() -> None:
    state = observed(ALL, {"b": "200"})
    state.facts = Facts(addresses={**state.facts.addresses, "b": {"front": "not an address"}})
    desired = compile_topology(topology(FIRST), {"local": state})["local"]
    assert desired_addresses(desired)["b"] == "10.0.0.200"


POOL = make_pool(IPv4Network("10.0.0.0/24"), None, None)


@pytest.mark.parametrize(
    ("current", "recorded", "expected"),
    [
        pytest.param({"a": "10.0.0.9"}, {"a": "10.0.0.2"}, {"a": "10.0.0.2", "b": "10.0.0.3"},
                     id="the recorded address wins over the current one"),
        pytest.param({"a": "10.0.0.3", "b": "10.0.0.9"}, {"b": "10.0.0.3"},
                     {"a": "10.0.0.2", "b": "10.0.0.3"},
                     id="a recorded address wins over another container's current one"),
        pytest.param({"b": "10.0.0.9"}, {"a": "10.0.0.5"}, {"a": "10.0.0.5", "b": "10.0.0.9"},
                     id="a container the record does not know keeps its current address"),
        pytest.param({"a": "10.0.0.9"}, {"a": "192.0.2.7"}, {"a": "10.0.0.2", "b": "10.0.0.3"},
                     id="an unusable recorded address: the lowest free, not the current one"),
    ],
)  # fmt: skip
def test_allocate_prefers_the_record(current: dict[str, str], recorded: dict[str, str],
                                     expected: dict[str, str]) -> None:
    got = allocate(POOL, [Request("a"), Request("b")],
                   {c: IPv4Address(a) for c, a in current.items()},
                   {c: IPv4Address(a) for c, a in recorded.items()})  # fmt: skip
    assert {c: str(a) for c, a in got.items()} == expected


STATIC_3 = {"networks": {"front": {"ipv4": "10.0.0.3"}}}
STATIC_4 = {"networks": {"front": {"ipv4": "10.0.0.4"}}}


@pytest.mark.parametrize(
    ("containers", "problems"),
    [
        pytest.param({**FIRST, "a": STATIC_3}, ["containers.a.networks.front.ipv4: address "
                     "10.0.0.3 is already in use: the last apply gave it to container 'b'"],
                     id="a static address the record gives another container"),
        pytest.param({**FIRST, "new": STATIC_4}, ["containers.new.networks.front.ipv4: address "
                     "10.0.0.4 is already in use: the last apply gave it to container 'c'"],
                     id="a new container's static address"),
        pytest.param({**FIRST, "a": STATIC_4, "d": STATIC_3},
                     ["containers.a.networks.front.ipv4: address 10.0.0.4 is already in use: "
                      "the last apply gave it to container 'c'",
                      "containers.d.networks.front.ipv4: address 10.0.0.3 is already in use: "
                      "the last apply gave it to container 'b'"],
                     id="every one is reported"),
    ],
)  # fmt: skip
def test_a_static_address_the_last_apply_gave_another_container_is_refused(
    containers: dict[str, Any], problems: list[str]
) -> None:
    _assert_refused(containers, ALL, problems)


@pytest.mark.parametrize("record", [None, ("a", "b")], ids=["no record", "c not recorded"])
def test_a_static_address_a_container_has_without_a_record_is_refused(
    record: tuple[str, ...] | None,
) -> None:
    """An older netplan applied it, or an apply was killed before it recorded: c keeps
    the address it has (.4), which a's static address would take."""
    _assert_refused({**FIRST, "a": STATIC_4}, record, [
        "containers.a.networks.front.ipv4: address 10.0.0.4 is already in use: container "
        "'c' has it (no last apply recorded it)"])


def _assert_refused(containers: dict[str, Any], record: tuple[str, ...] | None,
                    problems: list[str]) -> None:  # fmt: skip
    with pytest.raises(TopologyError) as raised:
        compile_topology(topology(containers), {"local": observed(record, {})})
    lines = raised.value.lines()
    assert [line.split(" (hint: ")[0] for line in lines] == [
        f"{problem}, which keeps it" for problem in problems]
    assert all("(hint: choose another address, give '" in line for line in lines)
