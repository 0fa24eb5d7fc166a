"""Updating in place: only the named fields change, and observe() then matches again."""

from __future__ import annotations

from dataclasses import replace

import pytest

from netplan.agent.api import StepFailed, execute, observe
from netplan.agent.resources import (
    BRIDGE_GROUP,
    Address,
    Bridge,
    Netns,
    Resource,
    Route,
    Veth,
    bridge_marker,
    veth_marker,
)
from netplan.agent.state import HostState
from netplan.plan.order import plan_host
from tests.kernel.kernel_helpers import container, create, keyed, link, network, owned, sh, update


def _built(topology: str) -> tuple[list[Resource], Veth]:
    wanted = [*network(), *container("c0")]
    create(topology, *wanted)
    veth = next(r for r in wanted if isinstance(r, Veth))
    return wanted, veth


def _swap(wanted: list[Resource], old: Resource, new: Resource) -> list[Resource]:
    return [new if r == old else r for r in wanted]


def test_bridge_mtu_and_state(topology: str) -> None:
    wanted, _ = _built(topology)
    old = wanted[0]
    assert isinstance(old, Bridge)
    new = replace(old, mtu=1400, up=False)
    update(topology, new, "mtu", "up")
    bridge = link("nbr0")
    assert bridge["mtu"] == 1400 and "UP" not in bridge["flags"]
    assert owned(topology) == keyed(*_swap(wanted, old, new))


def test_a_bridge_keeps_its_mac_when_a_port_with_a_lower_one_joins(topology: str) -> None:
    """Unpinned, a bridge takes its lowest port's MAC: every container's gateway MAC would
    change with an added container (netplan.topology.names.bridge_mac)."""
    wanted, _ = _built(topology)
    bridge = wanted[0]
    assert isinstance(bridge, Bridge) and bridge.mac is not None
    sh("ip link add nlow0 address 02:00:00:00:00:01 type veth peer name nlow1"
       " && ip link set nlow0 master nbr0")
    try:
        assert link("nbr0")["address"] == bridge.mac
    finally:
        sh("ip link del nlow0")
    assert owned(topology) == keyed(*wanted)


def test_a_bridge_made_without_a_mac_gets_one_in_place(topology: str) -> None:
    """A bridge made before netplan pinned bridge MACs: the update sets it, ports stay."""
    wanted = [*network(), *container("c0")]
    pinned = wanted[0]
    assert isinstance(pinned, Bridge)
    create(topology, replace(pinned, mac=None), *wanted[1:])
    update(topology, pinned, "mac")
    assert link("nbr0")["address"] == pinned.mac
    assert link("nvc0")["master"] == "nbr0"
    assert owned(topology) == keyed(*wanted)


def test_a_bridge_made_in_the_default_group_joins_the_bridge_group_in_place(
        topology: str) -> None:
    """A bridge made before netplan isolated topologies from each other (group 0): the
    plan updates its group, its ports and marker stay, and the next plan is empty."""
    wanted = [*network(), *container("c0")]
    grouped = wanted[0]
    assert isinstance(grouped, Bridge)
    create(topology, replace(grouped, group=0), *wanted[1:])
    assert link("nbr0")["group"] == "default"
    steps = plan_host("local", HostState({r.key: r for r in wanted}), observe(topology)).steps
    assert [(s.op, s.resource.key, s.fields) for s in steps] == [
        ("update", grouped.key, ("group",))]
    execute(topology, steps)
    assert link("nbr0")["group"] == str(BRIDGE_GROUP)
    assert link("nbr0")["ifalias"] == bridge_marker(topology, "front")
    assert link("nvc0")["master"] == "nbr0"
    assert owned(topology) == keyed(*wanted)


@pytest.mark.parametrize(("fields", "changes"), [
    (("mtu", "peer_mtu"), {"mtu": 1400, "peer_mtu": 1400}),
    (("mtu",), {"mtu": 1400}),
    (("peer_mtu",), {"peer_mtu": 1300}),
    (("mac",), {"mac": "02:00:00:00:99:99"}),
    (("container", "network"), {"container": "web", "network": "back"}),
])
def test_veth_fields(topology: str, fields: tuple[str, ...], changes: dict[str, object]) -> None:
    wanted, old = _built(topology)
    new = replace(old, **changes)  # type: ignore[arg-type]
    update(topology, new, *fields)
    assert owned(topology) == keyed(*_swap(wanted, old, new))
    eth0, host_end = link("eth0", netns="c0"), link("nvc0")
    assert eth0["address"] == new.mac
    assert (eth0["mtu"], host_end["mtu"]) == (new.mtu, new.peer_mtu)
    assert host_end["ifalias"] == veth_marker(topology, new.container, new.network)


def test_veth_set_down_then_up(topology: str) -> None:
    """The kernel deletes the routes through a link set down and does not bring them
    back when it comes up: the planner has to create them again."""
    wanted, old = _built(topology)
    route = next(r for r in wanted if isinstance(r, Route))
    down = replace(old, up=False)
    update(topology, down, "up")
    assert "UP" not in link("eth0", netns="c0")["flags"]
    assert "UP" not in link("nvc0")["flags"]
    without_route = [r for r in _swap(wanted, old, down) if r != route]
    assert owned(topology) == keyed(*without_route)
    update(topology, old, "up")
    assert "UP" in link("eth0", netns="c0")["flags"] and "UP" in link("nvc0")["flags"]
    create(topology, route)
    assert owned(topology) == keyed(*wanted)


def test_veth_moves_to_another_bridge_then_off_any(topology: str) -> None:
    wanted, old = _built(topology)
    other = Bridge("nbr1", "back", mtu=1500, mac="06:00:ac:1f:01:01")
    create(topology, other)
    moved = replace(old, bridge="nbr1")
    update(topology, moved, "bridge")
    assert link("nvc0")["master"] == "nbr1"
    detached = replace(old, bridge="")
    update(topology, detached, "bridge")
    assert "master" not in link("nvc0")
    assert owned(topology) == keyed(*_swap(wanted, old, detached), other)


def test_route_gateway_is_replaced_in_place(topology: str) -> None:
    wanted, _ = _built(topology)
    old = next(r for r in wanted if isinstance(r, Route))
    new = replace(old, gateway="172.31.0.254")
    update(topology, new, "gateway")
    assert owned(topology) == keyed(*_swap(wanted, old, new))


def test_lo_down_then_up(topology: str) -> None:
    create(topology, Netns("c0"))
    update(topology, Netns("c0", lo_up=False), "lo_up")
    assert "UP" not in link("lo", netns="c0")["flags"]
    update(topology, Netns("c0"), "lo_up")
    assert owned(topology) == keyed(Netns("c0"))


def test_drift_made_behind_our_back_is_observed_and_repaired(topology: str) -> None:
    wanted, veth = _built(topology)
    sh("ip -n c0 link set eth0 mtu 1400 && ip link set nvc0 nomaster")
    drifted = owned(topology)[veth.key]
    assert isinstance(drifted, Veth) and (drifted.mtu, drifted.bridge) == (1400, "")
    update(topology, veth, "mtu", "bridge")
    assert owned(topology) == keyed(*wanted)


def test_a_field_the_kernel_cannot_change_is_refused(topology: str) -> None:
    wanted, veth = _built(topology)
    with pytest.raises(StepFailed) as refused:
        update(topology, replace(veth, peer="other"), "peer")
    assert str(refused.value) == ("step 1: cannot update veth c0/eth0: peer cannot be changed"
                                  " in place: delete and recreate it")
    with pytest.raises(StepFailed, match="cidr cannot be changed in place"):
        update(topology, Address("c0", "eth0", "172.31.0.9/24"), "cidr")
    assert owned(topology) == keyed(*wanted)
