"""How a difference reads, in check (`differences()`) and in a plan (`change_line`): a
value the observed resource lacks reads `none`, never a blank."""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import pytest

from netplan.agent.resources import Bridge, Resource, Veth
from netplan.plan.diff import compare
from netplan.report import change_line

VETH = Veth("a", "eth0", "vetha", "br-n", "a", "n", mac="02:42:0a:00:00:02", mtu=1400,
            peer_mtu=1400)


class Case(NamedTuple):
    desired: Resource
    observed: Resource
    check: list[str]
    plan: str


CASES = {
    "host end on no bridge": Case(
        VETH, replace(VETH, bridge=""),
        ["link:a/eth0.bridge: desired br-n, observed none"],
        "~ veth a/eth0: bridge none → br-n",
    ),
    "host end gone": Case(
        VETH, replace(VETH, peer="", bridge="", container="", network="", peer_mtu=None),
        ["link:a/eth0.peer: desired vetha, observed none",
         "link:a/eth0.bridge: desired br-n, observed none",
         "link:a/eth0.container: desired a, observed none",
         "link:a/eth0.network: desired n, observed none",
         "link:a/eth0.peer_mtu: desired 1400, observed none"],
        "-/+ veth a/eth0: peer none → vetha, bridge none → br-n, container none → a, "
        "network none → n, peer_mtu none → 1400  (cannot change peer none → vetha in place: "
        "delete and recreate)",
    ),
    "host end's MTU": Case(
        VETH, replace(VETH, peer_mtu=1300),
        ["link:a/eth0.peer_mtu: desired 1400, observed 1300"],
        "~ veth a/eth0: peer_mtu 1300 → 1400",
    ),
    "bridge without a MAC": Case(
        Bridge("br-n", "n", 1500, mac="06:00:0a:00:00:01"), Bridge("br-n", "n", 1500),
        ["link:/br-n.mac: desired 06:00:0a:00:00:01, observed none"],
        "~ bridge br-n: mac none → 06:00:0a:00:00:01",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_missing_value_reads_none(case: Case) -> None:
    change = compare(case.desired.key, case.desired, case.observed)
    assert change is not None
    assert change.differences() == case.check
    assert change_line(change) == case.plan
