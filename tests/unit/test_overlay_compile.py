"""Overlays compiled for several hosts from their facts: tunnels, peers, MTU, VNIs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from netplan.agent.resources import (
    BRIDGE_GROUP,
    FLOOD_MAC,
    Address,
    Bridge,
    BridgeFdb,
    Fdb,
    Neighbour,
    Resource,
    Route,
    Veth,
    Vxlan,
)
from netplan.agent.state import Facts, HostState, Underlay, VniInUse
from netplan.compile import compile_topology, outline_of
from netplan.errors import TopologyError
from netplan.plan.order import plan_host
from netplan.show import observed_topology
from netplan.topology.loader import load_topology
from netplan.topology.model import Topology
from netplan.topology.names import bridge_mac

DEMO = Path(__file__).parents[2] / "topologies" / "overlay.yaml"
VTEP = {"hostA": "192.168.56.11", "hostB": "192.168.56.12", "hostC": "192.168.56.13"}


def vtep(name: str) -> str:
    """hostA, hostB, hostC as in the lab; h0, h1, ... from 192.168.57.1 up."""
    return VTEP.get(name) or f"192.168.57.{int(name[1:]) + 1}"


def host(name: str, mtu: int = 1500, state: HostState | None = None) -> HostState:
    """An observed host: what it has (default nothing) and its underlay `ul0`."""
    result = state or HostState()
    result.facts = Facts(Underlay("ul0", "ul0", vtep(name), mtu))
    return result


def hosts(*names: str) -> dict[str, HostState]:
    return {name: host(name) for name in names}


def overlay(**network: Any) -> Topology:
    """Containers c1, c2, c3 on hostA, hostB, hostC (as many as `hosts`), one overlay."""
    names = network.pop("on", ["hostA", "hostB"])
    containers = {f"c{i}": {"host": h, "networks": ["ov"]} for i, h in enumerate(names, 1)}
    return Topology.model_validate({
        "name": "t",
        "hosts": names,
        "networks": {"ov": {"driver": "overlay", "subnet": "10.88.0.0/24", **network}},
        "containers": containers,
    })


def of(state: HostState, kind: type[Resource]) -> list[Any]:
    return [r for r in state.resources.values() if isinstance(r, kind)]


def test_the_demo_compiles_to_a_tunnel_and_peers_on_each_host() -> None:
    desired = compile_topology(load_topology(DEMO), hosts("hostA", "hostB"))
    a = desired["hostA"].resources
    assert a["link:/br-overlay"] == Bridge("br-overlay", "overlay", 1450,
                                           mac=bridge_mac("overlay", "overlay", "hostA"),
                                           group=BRIDGE_GROUP)
    b = desired["hostB"].resources
    assert b["link:/br-overlay"].mac != a["link:/br-overlay"].mac  # one L2 segment
    assert a["link:/vx-overlay"] == Vxlan(
        "vx-overlay", "overlay", 42, VTEP["hostA"], "ul0", "br-overlay", 4789, 1450,
        learning=False, proxy=True)
    web = a["link:web/eth0"]
    assert isinstance(web, Veth)
    assert (web.bridge, web.mtu, web.mac) == ("br-overlay", 1450, "02:42:0a:58:00:01")
    assert a["addr:web/eth0/10.88.0.1/24"] == Address("web", "eth0", "10.88.0.1/24")
    assert set(of(desired["hostA"], Fdb)) == {
        Fdb("vx-overlay", FLOOD_MAC, VTEP["hostB"]),
        Fdb("vx-overlay", "02:42:0a:58:00:02", VTEP["hostB"]),
    }
    assert of(desired["hostA"], BridgeFdb) == [
        BridgeFdb("br-overlay", "vx-overlay", "02:42:0a:58:00:02")]
    assert of(desired["hostA"], Neighbour) == [
        Neighbour("vx-overlay", "10.88.0.2", "02:42:0a:58:00:02")]
    assert "addr:db/eth0/10.88.0.2/24" in desired["hostB"].resources
    assert of(desired["hostB"], Neighbour) == [
        Neighbour("vx-overlay", "10.88.0.1", "02:42:0a:58:00:01")]


def test_no_address_on_the_hosts_and_no_route_through_an_overlay() -> None:
    desired = compile_topology(load_topology(DEMO), hosts("hostA", "hostB"))
    for state in desired.values():
        assert of(state, Route) == []
        assert [a for a in of(state, Address) if a.netns == ""] == []


def test_the_mtu_is_the_smallest_underlay_mtu_minus_50() -> None:
    observed = {"hostA": host("hostA", 9000), "hostB": host("hostB", 1400)}
    desired = compile_topology(overlay(), observed)
    for state in desired.values():
        assert {r.mtu for r in of(state, Vxlan) + of(state, Bridge) + of(state, Veth)} == {1350}


def test_an_mtu_larger_than_the_underlay_carries_is_refused() -> None:
    observed = {"hostA": host("hostA", 1500), "hostB": host("hostB", 1400)}
    with pytest.raises(TopologyError) as raised:
        compile_topology(overlay(mtu=1400), observed)
    [problem] = raised.value.problems
    assert problem.path == "networks.ov.mtu"
    assert "host 'hostB' (ul0, MTU 1400) carries at most 1350" in problem.message


def test_a_host_without_an_underlay_is_named_with_a_hint() -> None:
    observed = {"hostA": HostState(), "hostB": host("hostB")}
    observed["hostB"].facts = Facts(Underlay("eth1", error="there is no interface eth1"))
    with pytest.raises(TopologyError) as raised:
        compile_topology(overlay(), observed)
    first, second = raised.value.problems
    assert first.path == "hosts.hostA.underlay" and "neither the topology nor" in first.message
    assert second.path == "hosts.hostB.underlay"
    assert second.message.endswith("cannot carry overlay 'ov': there is no interface eth1")
    assert "interface (or its IPv4 address)" in second.hint


def test_without_static_peers_only_flood_entries_and_the_device_learns() -> None:
    desired = compile_topology(overlay(static_peers=False), hosts("hostA", "hostB"))
    a = desired["hostA"]
    assert of(a, Fdb) == [Fdb("vx-ov", FLOOD_MAC, VTEP["hostB"])]
    assert of(a, Neighbour) == of(a, BridgeFdb) == []
    [tunnel] = of(a, Vxlan)
    assert (tunnel.learning, tunnel.proxy, tunnel.port_learning) == (True, False, False)


def test_vnis_from_4096_in_file_order_given_ones_skipped_and_current_ones_kept() -> None:
    spec = {"driver": "overlay"}
    topology = Topology.model_validate({
        "name": "t",
        "hosts": ["hostA"],
        "networks": {
            "a": {**spec, "subnet": "10.1.0.0/24"},
            "b": {**spec, "subnet": "10.2.0.0/24", "vni": 4097},
            "c": {**spec, "subnet": "10.3.0.0/24"},
            "d": {**spec, "subnet": "10.4.0.0/24"},
        },
        "containers": {"x": {"networks": ["a", "b", "c", "d"]}},
    })
    tunnels = {t.network: t.vni for t in of(compile_topology(topology, hosts("hostA"))["hostA"],
                                           Vxlan)}
    assert tunnels == {"a": 4096, "b": 4097, "c": 4098, "d": 4099}
    now = host("hostA")
    now.add(Vxlan("vx-d", "d", 5000, VTEP["hostA"], "ul0", "br-d"))
    now.add(Vxlan("vx-c", "c", 4097, VTEP["hostA"], "ul0", "br-c"))  # now given to b
    tunnels = {t.network: t.vni for t in of(compile_topology(topology, {"hostA": now})["hostA"],
                                           Vxlan)}
    assert tunnels == {"a": 4096, "b": 4097, "c": 4098, "d": 5000}


def with_tunnels(state: HostState, owner: str, **tunnels: VniInUse) -> HostState:
    """`state` with VXLAN devices (name → VNI and port) that the topology does not own."""
    state.facts = replace(state.facts, vnis_in_use=dict(tunnels))
    state.foreign.update({f"link:/{name}": owner for name in tunnels})
    return state


OTHERS = "belongs to netplan topology 'other'"


@pytest.mark.parametrize(("on_a", "on_b", "on_c", "expected"), [
    ({}, {}, {}, 4096),
    ({"vx-x": VniInUse(4096, 4789)}, {}, {}, 4097),  # another topology's overlay
    ({}, {"vx-x": VniInUse(4096, 4789), "vx-y": VniInUse(4097, 4789)}, {}, 4098),
    ({"vx-x": VniInUse(4096, 4790)}, {}, {}, 4096),  # another port: no clash
    ({}, {}, {"vx-x": VniInUse(4096, 4789)}, 4096),  # on a host the overlay does not span
], ids=["free", "taken-on-a", "two-taken-on-b", "other-port", "other-host"])
def test_the_default_vni_skips_what_other_vxlan_devices_take_on_the_overlays_hosts(
        on_a: dict[str, VniInUse], on_b: dict[str, VniInUse], on_c: dict[str, VniInUse],
        expected: int) -> None:
    observed = hosts("hostA", "hostB", "hostC")
    for name, tunnels in (("hostA", on_a), ("hostB", on_b), ("hostC", on_c)):
        with_tunnels(observed[name], OTHERS, **tunnels)
    topology = Topology.model_validate({
        "name": "t",
        "hosts": ["hostA", "hostB", "hostC"],
        "networks": {"ov": {"driver": "overlay", "subnet": "10.88.0.0/24"}},
        "containers": {"c1": {"host": "hostA", "networks": ["ov"]},
                       "c2": {"host": "hostB", "networks": ["ov"]}},
    })
    desired = compile_topology(topology, observed)
    assert {t.vni for name in ("hostA", "hostB") for t in of(desired[name], Vxlan)} == {expected}


@pytest.mark.parametrize(("owner", "said"), [
    (OTHERS, "has it already and belongs to netplan topology 'other'"),
    ("is not managed by netplan", "has it already and is not managed by netplan"),
])
def test_a_given_vni_another_device_has_is_refused_naming_it(owner: str, said: str) -> None:
    observed = hosts("hostA", "hostB")
    with_tunnels(observed["hostB"], owner, **{"vx-theirs": VniInUse(42, 4789)})
    with pytest.raises(TopologyError) as raised:
        compile_topology(overlay(vni=42), observed)
    [problem] = raised.value.problems
    assert problem.path == "networks.ov.vni"
    assert problem.message == (
        f"overlay 'ov' needs VNI 42 on UDP port 4789, but VXLAN device vx-theirs on host "
        f"'hostB' {said}")
    assert problem.hint == "pick another `vni:`, one no VXLAN device on the overlay's hosts uses"
    assert "\n" not in problem.render()


def test_a_kept_vni_another_device_has_on_a_joining_host_is_refused() -> None:
    """The overlay keeps its VNI (4096) on hostA and hostB; hostC, joining, has another
    topology's device with it: refused, rather than every host's device replaced."""
    before = compile_topology(overlay(), hosts("hostA", "hostB"))
    applied = {name: host(name, state=state) for name, state in before.items()}
    applied["hostC"] = with_tunnels(host("hostC"), OTHERS, **{"vx-x": VniInUse(4096, 4789)})
    with pytest.raises(TopologyError) as raised:
        compile_topology(overlay(on=["hostA", "hostB", "hostC"]), applied)
    [problem] = raised.value.problems
    assert "needs VNI 4096" in problem.message and "on host 'hostC'" in problem.message


def test_a_third_host_adds_only_its_own_entries_on_the_others() -> None:
    before = compile_topology(overlay(), hosts("hostA", "hostB"))
    applied = {name: host(name, state=state) for name, state in before.items()}
    applied["hostC"] = host("hostC")
    after = compile_topology(overlay(on=["hostA", "hostB", "hostC"]), applied)
    plan = plan_host("hostA", after["hostA"], applied["hostA"])
    assert sorted(f"{c.action} {c.key}" for c in plan.changes) == [
        "create bridge-fdb:br-ov/02:42:0a:58:00:03",
        "create fdb:vx-ov/00:00:00:00:00:00/192.168.56.13",
        "create fdb:vx-ov/02:42:0a:58:00:03/192.168.56.13",
        "create neigh:vx-ov/10.88.0.3",
        "update hosts:c1",  # c3 resolves from c1 now
    ]


def test_a_host_whose_underlay_moves_keeps_its_tunnel_and_its_peers_follow() -> None:
    """hostB's underlay is now eth1, 192.168.60.12: its VXLAN device changes its local
    address and device in place (its entries stay: no step of theirs); hostA's entries
    towards hostB move to the new address, the old ones deleted before the new are made
    (one VTEP per MAC)."""
    before = compile_topology(overlay(), hosts("hostA", "hostB"))
    applied = {name: host(name, state=state) for name, state in before.items()}
    applied["hostB"].facts = Facts(Underlay("eth1", "eth1", "192.168.60.12", 1500))
    after = compile_topology(overlay(), applied)
    moved = plan_host("hostB", after["hostB"], applied["hostB"])
    assert [(c.action, c.key, [f.field for f in c.fields], c.reason) for c in moved.changes] == [
        ("update", "link:/vx-ov", ["local", "dev"], "")]
    assert [f"{s.op} {s.resource.key} {','.join(s.fields)}" for s in moved.steps] == [
        "update link:/vx-ov local,dev"]
    peer = plan_host("hostA", after["hostA"], applied["hostA"])
    assert [f"{s.op} {s.resource.key}" for s in peer.steps] == [
        "delete fdb:vx-ov/00:00:00:00:00:00/192.168.56.12",
        "delete fdb:vx-ov/02:42:0a:58:00:02/192.168.56.12",
        "create fdb:vx-ov/00:00:00:00:00:00/192.168.60.12",
        "create fdb:vx-ov/02:42:0a:58:00:02/192.168.60.12",
    ]


@pytest.mark.parametrize("count", [2, 5, 10])
def test_entries_per_host_grow_linearly_with_the_peers(count: int) -> None:
    """Per host: one flood entry per remote host, and per remote container one FDB entry
    of the device, one of the bridge and one neighbour entry (one container per host
    here): 4 (N - 1)."""
    names = [f"h{i}" for i in range(count)]
    desired = compile_topology(overlay(on=names), hosts(*names))
    for state in desired.values():
        entries = of(state, Fdb) + of(state, BridgeFdb) + of(state, Neighbour)
        assert len(entries) == 4 * (count - 1)


def test_an_unreachable_host_keeps_its_tunnels_on_the_others() -> None:
    """hostB is down: hostA's entries towards it stay; nothing is planned for hostB."""
    before = compile_topology(overlay(), hosts("hostA", "hostB"))
    now = {"hostA": host("hostA", state=before["hostA"])}
    after = compile_topology(overlay(), now)
    assert plan_host("hostA", after["hostA"], now["hostA"]).empty
    assert of(after["hostB"], Bridge) + of(after["hostB"], Vxlan) + of(after["hostB"], Veth) == []


def test_show_writes_an_overlay_back_as_a_topology_that_plans_nothing() -> None:
    desired = compile_topology(load_topology(DEMO), hosts("hostA", "hostB"))
    observed = {name: host(name, state=state) for name, state in desired.items()}
    shown = observed_topology("overlay", observed)
    assert shown["networks"] == {"overlay": {
        "driver": "overlay", "subnet": "10.88.0.0/24", "vni": 42, "hosts": ["hostA", "hostB"],
        "mtu": 1450, "bridge": "br-overlay"}}
    again = compile_topology(Topology.model_validate(shown), observed)
    assert all(plan_host(name, again[name], observed[name]).empty for name in observed)


def test_two_hosts_with_one_underlay_address_cannot_tunnel() -> None:
    """As on Vagrant VMs whose NAT eth0 is 10.0.2.15 everywhere."""
    observed = hosts("hostA", "hostB")
    for state in observed.values():
        state.facts = Facts(Underlay("eth0", "eth0", "10.0.2.15", 1500))
    with pytest.raises(TopologyError) as raised:
        compile_topology(overlay(), observed)
    [problem] = raised.value.problems
    assert problem.path == "hosts.hostB.underlay"
    assert "'hostA' and 'hostB' both have the underlay address 10.0.2.15" in problem.message
    assert "(Vagrant: eth1)" in problem.hint


def test_facts_travel_in_the_observed_state_and_unknown_ones_are_left_out() -> None:
    state = host("hostA")
    data = json.loads(json.dumps(state.to_json()))
    assert data["facts"] == {"underlay": {"hint": "ul0", "interface": "ul0",
                                          "address": VTEP["hostA"], "mtu": 1500, "error": ""}}
    data["facts"]["underlay"]["speed"] = 10000  # from a newer agent
    assert HostState.from_json(data).facts == state.facts
    assert HostState.from_json({"resources": []}).facts == Facts()  # from an older one
    with_tunnels(state, OTHERS, **{"vx-x": VniInUse(4096, 4789)})
    data = json.loads(json.dumps(state.to_json()))
    assert data["facts"]["vnis_in_use"] == {"vx-x": {"vni": 4096, "port": 4789}}
    assert HostState.from_json(data).facts == state.facts


@pytest.mark.parametrize(("spec", "provider", "expected"), [
    ({}, "ul0", "ul0"),
    ({"underlay": "eth2"}, "ul0", "eth2"),
    ({"underlay": "192.168.56.11"}, None, "192.168.56.11"),
    ({}, None, None),
])
def test_the_topology_names_the_underlay_else_the_provider(
        spec: dict[str, str], provider: str | None, expected: str | None) -> None:
    topology = Topology.model_validate({"name": "t", "hosts": {"hostA": spec}})
    asked = outline_of(topology).facts_asked("hostA", provider)
    assert asked.get("underlay") == expected
