"""A bridge network's subnet against the addresses of the host's other links: (desired,
observed facts) → conflicts."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from netplan.agent.resources import ROOT, Address, Bridge, link_key
from netplan.agent.state import Facts, HostState
from netplan.plan.order import plan_host


class Case(NamedTuple):
    gateway: str
    prefixes: dict[str, str]
    """Foreign links' addresses: cidr → link."""
    expected: list[str]


CASES = {
    "nothing else on the host": Case("10.10.0.1/24", {}, []),
    "another subnet": Case("10.10.0.1/24", {"10.11.0.1/24": "br-other"}, []),
    "the same subnet on another topology's bridge": Case(
        "10.10.0.1/24", {"10.10.0.1/24": "br-other"},
        ["subnet 10.10.0.0/24 (on br-front) overlaps 10.10.0.1/24 on br-other, "
         "which belongs to netplan topology 'other'"]),
    "the host's LAN inside the network's subnet": Case(
        "10.0.0.1/16", {"10.0.5.7/24": "eth0"},
        ["subnet 10.0.0.0/16 (on br-front) overlaps 10.0.5.7/24 on eth0, "
         "which is not managed by netplan"]),
    "the network's subnet inside the host's LAN": Case(
        "192.168.1.1/28", {"192.168.0.10/16": "eth0"},
        ["subnet 192.168.1.0/28 (on br-front) overlaps 192.168.0.10/16 on eth0, "
         "which is not managed by netplan"]),
    "adjacent, not overlapping": Case("10.10.1.1/24", {"10.10.0.1/24": "eth0"}, []),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_bridge_subnet_that_overlaps_the_hosts_is_a_conflict(case: Case) -> None:
    desired = HostState()
    desired.add(Bridge("br-front", "front"))
    desired.add(Address(ROOT, "br-front", case.gateway))
    observed = HostState(facts=Facts(prefixes=case.prefixes))
    observed.foreign[link_key(ROOT, "br-other")] = "belongs to netplan topology 'other'"
    observed.foreign[link_key(ROOT, "eth0")] = "is not managed by netplan"
    plan = plan_host("local", desired, observed)
    assert [f"{c.what} {c.owner}" for c in plan.conflicts] == case.expected


def test_prefixes_travel_in_the_observation() -> None:
    facts = Facts(prefixes={"192.168.1.5/24": "eth0"})
    assert Facts.from_json(facts.to_json()) == facts
