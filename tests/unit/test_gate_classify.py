"""Drift or pending: (desired, last-applied, observed) → each difference with its classes."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from netplan.agent.resources import (
    IP_FORWARD,
    Address,
    Bridge,
    Netns,
    NftTable,
    Resource,
    Route,
    Sysctl,
    Veth,
)
from netplan.agent.state import HostState
from netplan.gate.classify import classify
from netplan.plan.order import plan_host

BR = Bridge("br0", "front")
WEB = Netns("web")
VETH = Veth("web", "eth0", "vethweb", "br0", "web", "front")
ADDR = Address("web", "eth0", "10.0.0.2/24")
ROUTE = Route("web", "default", "eth0", "10.0.0.1")
DB = Netns("db")
HOST = [BR, WEB, VETH, ADDR, ROUTE]
TABLE = NftTable("inet", "netplan_t")
FORWARD = Sysctl(IP_FORWARD, "1")


class Case(NamedTuple):
    desired: list[Resource]
    last: list[Resource] | None
    observed: list[Resource]
    expected: dict[str, tuple[str, ...]]
    """difference text → classes."""
    file_changed: bool = True


def mtu(value: int) -> Veth:
    return Veth("web", "eth0", "vethweb", "br0", "web", "front", mtu=value)


CASES = {
    "in sync": Case(HOST, HOST, HOST, {}),
    "host changed a field": Case(
        HOST, HOST, [BR, WEB, mtu(1300), ADDR, ROUTE],
        {"link:web/eth0.mtu: desired 1500, observed 1300": ("drift",)},
    ),
    "host lost a resource": Case(
        HOST, HOST, [BR, WEB, VETH, ADDR],
        {"route:web/default: desired present, observed missing": ("drift",)},
    ),
    "host grew a resource": Case(
        HOST, HOST, [*HOST, Address("web", "eth0", "10.9.9.9/24")],
        {
            "addr:web/eth0/10.9.9.9/24: desired absent, observed present": ("drift",),
            "route:web/default: recreated: the kernel may delete it with address "
            "10.9.9.9/24 on web/eth0": ("drift",),
        },
    ),
    "file changed an address: the route re-created around it is pending, not drift": Case(
        [BR, WEB, VETH, Address("web", "eth0", "10.0.0.50/24"), ROUTE], HOST, HOST,
        {
            "addr:web/eth0/10.0.0.2/24: desired absent, observed present": ("pending",),
            "addr:web/eth0/10.0.0.50/24: desired present, observed missing": ("pending",),
            "route:web/default: recreated: the kernel may delete it with address "
            "10.0.0.2/24 on web/eth0": ("pending",),
        },
    ),
    "file added a resource": Case(
        [*HOST, DB], HOST, HOST,
        {"netns:db: desired present, observed missing": ("pending",)},
    ),
    "file changed a field": Case(
        [BR, WEB, mtu(9000), ADDR, ROUTE], HOST, HOST,
        {"link:web/eth0.mtu: desired 9000, observed 1500": ("pending",)},
    ),
    "file removed a resource: its children go with it, all pending": Case(
        [BR], HOST, HOST,
        {
            "netns:web: desired absent, observed present": ("pending",),
            "link:web/eth0: desired absent, observed present": ("pending",),
            "addr:web/eth0/10.0.0.2/24: desired absent, observed present": ("pending",),
            "route:web/default: desired absent, observed present": ("pending",),
        },
    ),
    "both changed the same field": Case(
        [BR, WEB, mtu(9000), ADDR, ROUTE], HOST, [BR, WEB, mtu(1300), ADDR, ROUTE],
        {"link:web/eth0.mtu: desired 9000, observed 1300": ("drift", "pending")},
    ),
    "host changed what the file now wants anyway": Case(
        [BR, WEB, mtu(1300), ADDR, ROUTE], HOST, [BR, WEB, mtu(1300), ADDR, ROUTE], {},
    ),
    "each on its own resource": Case(
        [*HOST, DB], HOST, [BR, WEB, mtu(1300), ADDR, ROUTE],
        {
            "link:web/eth0.mtu: desired 1500, observed 1300": ("drift",),
            "netns:db: desired present, observed missing": ("pending",),
        },
    ),
    "no record: everything is pending": Case(
        [*HOST, DB], None, [BR, WEB, mtu(1300), ADDR, ROUTE],
        {
            "link:web/eth0.mtu: desired 1500, observed 1300": ("pending",),
            "netns:db: desired present, observed missing": ("pending",),
        },
    ),
    "a field left unset when applied is not drift": Case(
        [Bridge("br0", "front", mtu=1400)], [BR], [Bridge("br0", "front", mtu=1450)],
        {"link:/br0.mtu: desired 1400, observed 1450": ("pending",)},
    ),
    "a resource the host grew that the file now wants": Case(
        [*HOST, DB], HOST, [*HOST, Netns("db", lo_up=False)],
        {"netns:db.lo_up: desired True, observed False": ("drift", "pending")},
    ),
    "the file unchanged: what it compiles to changed with the hosts, drift": Case(
        [Bridge("br0", "front", mtu=1350)], [Bridge("br0", "front", mtu=1450)],
        [Bridge("br0", "front", mtu=1450)],
        {"link:/br0.mtu: desired 1350, observed 1450": ("drift",)}, file_changed=False,
    ),
    "the file unchanged: a host change is drift, as ever": Case(
        HOST, HOST, [BR, WEB, mtu(1300), ADDR, ROUTE],
        {"link:web/eth0.mtu: desired 1500, observed 1300": ("drift",)}, file_changed=False,
    ),
    "the file unchanged and no record: pending (nothing was applied to compare with)": Case(
        [*HOST, DB], None, HOST,
        {"netns:db: desired present, observed missing": ("pending",)}, file_changed=False,
    ),
    "children re-created with a replaced parent take its class": Case(
        HOST, HOST, [BR, WEB, Veth("web", "eth0", "vethold", "br0", "web", "front"), ADDR, ROUTE],
        {
            "link:web/eth0.peer: desired vethweb, observed vethold": ("drift",),
            "addr:web/eth0/10.0.0.2/24: recreated with veth web/eth0": ("drift",),
            "route:web/default: recreated with veth web/eth0": ("drift",),
        },
    ),
    "the table deleted: ip_forward was not read": Case(
        [*HOST, TABLE, FORWARD], [*HOST, TABLE, FORWARD], HOST,
        {
            "nft:inet/netplan_t: desired present, observed missing": ("drift",),
            "sysctl:net.ipv4.ip_forward: desired present, not observed: read only while "
            "nft:inet/netplan_t exists": ("drift",),
        },
    ),
}  # fmt: skip


def state(resources: list[Resource]) -> HostState:
    result = HostState()
    for resource in resources:
        result.add(resource)
    return result


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_classify(case: Case) -> None:
    plan = plan_host("local", state(case.desired), state(case.observed))
    last = None if case.last is None else state(case.last)
    found = {d.text: d.classes for d in classify(plan, last, case.file_changed)}
    assert found == case.expected


def test_label_joins_classes() -> None:
    case = CASES["both changed the same field"]
    plan = plan_host("local", state(case.desired), state(case.observed))
    [difference] = classify(plan, state(HOST), file_changed=True)
    assert difference.label == "drift+pending"
    assert (difference.field, difference.desired, difference.observed) == ("mtu", 9000, 1300)


def test_a_setting_that_was_not_read_is_not_called_missing() -> None:
    """ip_forward is read only while the inet table exists: with the table gone, what was
    observed of it is `not observed` (check's JSON too), not `missing`."""
    case = CASES["the table deleted: ip_forward was not read"]
    plan = plan_host("local", state(case.desired), state(case.observed))
    found = {d.key: d.observed for d in classify(plan, state(HOST), file_changed=False)}
    assert found == {TABLE.key: "missing", FORWARD.key: "not observed"}
