"""A root-namespace link left half made by a killed agent: created (in its topology's making
group) but not yet marked. It is still the topology's: an apply finishes it, a destroy
deletes it, and nobody else's link is taken for one."""

from __future__ import annotations

import pytest

from netplan.agent.api import execute, observe
from netplan.agent.links import making_group
from netplan.agent.resources import BRIDGE_GROUP, ROOT, Bridge, Vlan, Vxlan, bridge_marker, link_key
from netplan.agent.state import HostState
from netplan.plan.order import plan_host
from tests.kernel.kernel_helpers import create, ip, keyed, link, network, owned, sh


def desired(*resources: Bridge | Vxlan | Vlan) -> HostState:
    state = HostState()
    for resource in resources:
        state.add(resource)
    return state


def test_links_are_made_outside_the_making_group(topology: str) -> None:
    create(topology, *network())
    made = link("nbr0")
    assert made["ifalias"] == bridge_marker(topology, "front")
    assert made["group"] == str(BRIDGE_GROUP)


def test_an_apply_finishes_a_half_made_bridge(topology: str) -> None:
    """Killed between the link's creation and its marker: the bridge is in the making
    group, without an alias. The next plan writes the marker; then the plan is empty."""
    bridge, address = network()
    sh(f"ip link add nbr0 group {making_group(topology)} type bridge")
    assert owned(topology) == keyed(Bridge("nbr0", "", mtu=1500, up=False,
                                           mac=link("nbr0")["address"],
                                           group=making_group(topology)))
    wanted = desired(bridge, address)
    plan = plan_host("local", wanted, observe(topology))
    assert plan.conflicts == [] and [s.op for s in plan.steps] == ["update", "create"]
    execute(topology, plan.steps)
    finished = link("nbr0")
    assert finished["ifalias"] == bridge_marker(topology, "front")
    assert finished["group"] == str(BRIDGE_GROUP)
    assert ip("-4", "addr", "show", "dev", "nbr0")[0]["addr_info"][0]["local"] == "172.31.0.1"
    assert plan_host("local", wanted, observe(topology)).empty


def test_a_destroy_deletes_a_half_made_vxlan(topology: str) -> None:
    sh(f"ip link add vx-half group {making_group(topology)} type vxlan id 42 dstport 4789")
    assert link_key(ROOT, "vx-half") in owned(topology)
    plan = plan_host("local", HostState(), observe(topology))
    assert [(s.op, s.resource.key) for s in plan.steps] == [("delete", link_key(ROOT, "vx-half"))]
    execute(topology, plan.steps)
    assert "vx-half" not in {entry["ifname"] for entry in ip("link")}
    assert plan_host("local", HostState(), observe(topology)).empty


@pytest.mark.parametrize("group", ["default", "1", "another topology's"])
def test_other_links_stay_foreign(topology: str, group: str) -> None:
    """An unmarked link in any other group, another topology's making group included,
    is not this topology's: wanting its name is a conflict, and nothing is planned on it."""
    number = {"another topology's": str(making_group(topology + "x"))}.get(group, group)
    sh(f"ip link add nbr0 group {number} type bridge")
    assert owned(topology) == {}
    plan = plan_host("local", desired(*network()), observe(topology))
    assert [c.what for c in plan.conflicts] == ["bridge nbr0"]
    sh("ip link del nbr0")
    assert plan_host("local", HostState(), observe(topology)).empty
