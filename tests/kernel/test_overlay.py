"""VXLAN devices, their FDB entries (their own and their bridges') and neighbour entries,
and the underlay's facts: made, observed, changed and removed by the agent, checked with
`ip -d -j link`, `bridge -j fdb` and `ip -j neigh`. Each test ends with observe() ==
desired (an empty second plan)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from netplan.agent.api import execute, handle, observe
from netplan.agent.resources import (
    FLOOD_MAC,
    Bridge,
    BridgeFdb,
    Fdb,
    Neighbour,
    Resource,
    Vxlan,
    bridge_marker,
)
from netplan.agent.state import PROTOCOL_VERSION, HostState, Step, Underlay, VniInUse
from netplan.plan.order import plan_host
from tests.kernel.kernel_helpers import create, delete, ip, keyed, link, owned, run_json, sh, update

LOCAL, PEER_B, PEER_C = "192.168.77.1", "192.168.77.2", "192.168.77.3"
MAC_B = "02:42:0a:58:00:02"


@pytest.fixture
def underlay() -> Iterator[str]:
    """ul0, the host's underlay, with an address and MTU 1500 (a veth; its peer stays)."""
    sh(f"ip link add ul0 type veth peer name ul0p && ip addr add {LOCAL}/24 dev ul0"
       " && ip link set ul0 up && ip link set ul0p up")
    yield "ul0"
    sh("ip link del ul0")


def overlay(vni: int = 42) -> list[Resource]:
    """A bridge and its tunnel to two peers, with one remote container behind PEER_B."""
    return [
        Bridge("br-ov", "ov", 1450, mac="06:00:0a:63:00:01"),
        Vxlan("vx-ov", "ov", vni, LOCAL, "ul0", "br-ov", mtu=1450),
        Fdb("vx-ov", FLOOD_MAC, PEER_B),
        Fdb("vx-ov", FLOOD_MAC, PEER_C),
        Fdb("vx-ov", MAC_B, PEER_B),
        Neighbour("vx-ov", "10.88.0.2", MAC_B),
        BridgeFdb("br-ov", "vx-ov", MAC_B),
    ]


def fdb_entries(dev: str) -> set[tuple[str, str]]:
    """(MAC, VTEP) of the device's own entries, as `bridge fdb` shows them."""
    shown = run_json("bridge", "-j", "fdb", "show", "dev", dev)
    return {(e["mac"], e["dst"]) for e in shown if "self" in e["flags"]}


def bridge_entries(bridge: str) -> dict[str, tuple[str, str]]:
    """MAC → (port, state) of the bridge's own entries on its ports, as `bridge fdb` shows
    them (the ports' own addresses, `permanent`, left out)."""
    shown = run_json("bridge", "-j", "fdb", "show", "br", bridge)
    return {e["mac"]: (e["ifname"], e["state"]) for e in shown
            if "self" not in e["flags"] and e["state"] != "permanent"}


def port_learning(dev: str) -> bool:
    """Whether the bridge learns through port `dev`, as `ip -d link` shows it."""
    info = ip("-d", "link", "show", "dev", dev)[0]["linkinfo"]
    assert info["info_slave_kind"] == "bridge"
    learning: bool = info["info_slave_data"]["learning"]
    return learning


def neighbours(dev: str) -> dict[str, str]:
    return {e["dst"]: e["lladdr"] for e in ip("neigh", "show", "dev", dev)}


@pytest.mark.usefixtures("underlay")
def test_a_tunnel_is_made_as_asked_and_observed_exactly_as_desired(topology: str) -> None:
    wanted = overlay()
    create(topology, *wanted)
    [shown] = ip("-d", "link", "show", "dev", "vx-ov")
    data = shown["linkinfo"]["info_data"]
    assert (data["id"], data["local"], data["link"], data["port"]) == (42, LOCAL, "ul0", 4789)
    assert (data["learning"], data["proxy"]) == (False, True)
    assert (shown["master"], shown["mtu"], shown["ifalias"]) == (
        "br-ov", 1450, bridge_marker(topology, "ov"))
    assert "UP" in shown["flags"]
    assert fdb_entries("vx-ov") == {(FLOOD_MAC, PEER_B), (FLOOD_MAC, PEER_C), (MAC_B, PEER_B)}
    assert bridge_entries("br-ov") == {MAC_B: ("vx-ov", "static")}
    assert port_learning("vx-ov") is False
    assert neighbours("vx-ov") == {"10.88.0.2": MAC_B}
    assert owned(topology) == keyed(*wanted)


@pytest.mark.usefixtures("underlay")
def test_changing_what_the_kernel_changes_in_place(topology: str) -> None:
    wanted = overlay()
    other = Bridge("br-other", "ov2", 1500, mac="06:00:0a:64:00:01")
    create(topology, *wanted, other)
    tunnel = replace(wanted[1], mtu=1400, bridge="br-other", network="ov2")
    neighbour = replace(wanted[5], mac="02:42:0a:58:00:09")
    assert isinstance(tunnel, Vxlan) and isinstance(neighbour, Neighbour)
    update(topology, tunnel, "mtu", "bridge", "network")
    update(topology, neighbour, "mac")
    shown = link("vx-ov")
    assert (shown["mtu"], shown["master"]) == (1400, "br-other")
    assert shown["ifalias"] == bridge_marker(topology, "ov2")
    assert neighbours("vx-ov") == {"10.88.0.2": "02:42:0a:58:00:09"}
    # A port that joins a bridge learns, as the kernel makes it, unless told; the entries
    # of the bridge it left stay behind with that bridge (here: gone with the port).
    assert port_learning("vx-ov") is False
    assert bridge_entries("br-ov") == bridge_entries("br-other") == {}
    after = [tunnel if r == wanted[1] else neighbour if r == wanted[5] else r for r in wanted[:6]]
    assert owned(topology) == keyed(*after, other)


@pytest.mark.usefixtures("underlay")
def test_a_tunnel_set_down_loses_its_neighbours_and_the_plan_brings_them_back(
        topology: str) -> None:
    """The kernel flushes even permanent neighbour entries of a link going down (its
    FDB entries stay); the next plan sets it up first, then makes them again."""
    wanted = overlay()
    create(topology, *wanted)
    sh("ip link set vx-ov down")
    assert neighbours("vx-ov") == {} and len(fdb_entries("vx-ov")) == 3
    desired = HostState(resources=keyed(*wanted))
    plan = plan_host("local", desired, observe(topology))
    assert [f"{s.op} {s.resource.key}" for s in plan.steps] == [
        "update link:/vx-ov", "create neigh:vx-ov/10.88.0.2"]
    execute(topology, plan.steps)
    assert owned(topology) == keyed(*wanted)


@pytest.mark.usefixtures("underlay")
def test_deleting_one_vteps_flood_entry_keeps_the_others(topology: str) -> None:
    wanted = overlay()
    create(topology, *wanted)
    delete(topology, wanted[3], wanted[4], wanted[5], wanted[6])
    assert fdb_entries("vx-ov") == {(FLOOD_MAC, PEER_B)}
    assert neighbours("vx-ov") == {} and bridge_entries("br-ov") == {}
    assert owned(topology) == keyed(*wanted[:3])


@pytest.mark.usefixtures("underlay")
def test_a_new_vni_is_a_planned_replace_that_brings_the_entries_back(topology: str) -> None:
    create(topology, *overlay(4096))
    desired = HostState()
    for resource in overlay(42):
        desired.add(resource)
    plan = plan_host("local", desired, observe(topology))
    assert [c.reason for c in plan.changes if c.key == "link:/vx-ov"] == [
        "cannot change vni 4096 → 42 in place (the kernel refuses to change a VXLAN device's "
        "VNI): delete and recreate"]
    execute(topology, plan.steps)
    assert ip("-d", "link", "show", "dev", "vx-ov")[0]["linkinfo"]["info_data"]["id"] == 42
    assert len(fdb_entries("vx-ov")) == 3
    assert bridge_entries("br-ov") == {MAC_B: ("vx-ov", "static")}
    assert port_learning("vx-ov") is False
    assert plan_host("local", desired, observe(topology)).empty


@pytest.fixture
def second_underlay() -> Iterator[str]:
    """ul1, another interface the tunnel could leave from (a veth; its peer stays)."""
    sh("ip link add ul1 type veth peer name ul1p && ip addr add 192.168.78.1/24 dev ul1"
       " && ip link set ul1 up && ip link set ul1p up")
    yield "ul1"
    sh("ip link del ul1")


@pytest.mark.usefixtures("underlay", "second_underlay")
@pytest.mark.parametrize(("by_hand", "fields"), [
    ("learning", ("learning",)),
    ("local 192.168.77.9", ("local",)),
    ("dev ul1", ("dev",)),
    ("local 192.168.78.1 dev ul1 learning", ("local", "dev", "learning")),
])
def test_what_the_kernel_changes_in_place_is_repaired_in_place(
        topology: str, by_hand: str, fields: tuple[str, ...]) -> None:
    """`ip link set vx-ov type vxlan …` by hand: one update puts the device back as it
    was, the same device (its ifindex), with its FDB, neighbour and bridge entries."""
    wanted = overlay()
    create(topology, *wanted)
    index = link("vx-ov")["ifindex"]
    sh(f"ip link set vx-ov type vxlan {by_hand}")
    desired = HostState(resources=keyed(*wanted))
    plan = plan_host("local", desired, observe(topology))
    assert [(c.action, c.key, tuple(f.field for f in c.fields), c.reason)
            for c in plan.changes] == [("update", "link:/vx-ov", fields, "")]
    execute(topology, plan.steps)
    [shown] = ip("-d", "link", "show", "dev", "vx-ov")
    data = shown["linkinfo"]["info_data"]
    assert shown["ifindex"] == index
    assert (data["id"], data["local"], data["link"], data["port"]) == (42, LOCAL, "ul0", 4789)
    assert (data["learning"], data["proxy"]) == (False, True)
    assert fdb_entries("vx-ov") == {(FLOOD_MAC, PEER_B), (FLOOD_MAC, PEER_C), (MAC_B, PEER_B)}
    assert bridge_entries("br-ov") == {MAC_B: ("vx-ov", "static")}
    assert neighbours("vx-ov") == {"10.88.0.2": MAC_B}
    assert plan_host("local", desired, observe(topology)).empty


@pytest.mark.usefixtures("underlay")
def test_entries_the_device_learned_or_devices_of_others_are_not_ours(topology: str) -> None:
    wanted = overlay()
    create(topology, *wanted)
    sh(f"bridge fdb add 02:42:0a:58:00:77 dev vx-ov dst {PEER_C} dynamic"
       " && bridge fdb add 02:42:0a:58:00:78 dev vx-ov master dynamic"
       f" && ip link add vx-theirs type vxlan id 7 local {LOCAL} dev ul0 dstport 4789"
       f" && bridge fdb append {FLOOD_MAC} dev vx-theirs dst {PEER_B}")
    state = observe(topology)
    assert state.resources == keyed(*wanted)
    assert state.foreign["link:/vx-theirs"] == "is not managed by netplan"
    assert state.facts.vnis_in_use == {"vx-theirs": VniInUse(7, 4789)}  # what it takes
    sh("ip link del vx-theirs")


@pytest.mark.usefixtures("underlay")
def test_learning_turned_on_by_hand_is_turned_off_and_what_it_learned_forgotten(
        topology: str) -> None:
    """What the bridge learned through the port meanwhile (a stale MAC) is flushed with
    it; the static entries stay."""
    wanted = overlay()
    create(topology, *wanted)
    sh("ip link set vx-ov type bridge_slave learning on"
       " && bridge fdb add 02:42:0a:58:00:77 dev vx-ov master dynamic")
    assert port_learning("vx-ov") is True
    desired = HostState(resources=keyed(*wanted))
    plan = plan_host("local", desired, observe(topology))
    assert [f"{s.op} {s.resource.key} {','.join(s.fields)}" for s in plan.steps] == [
        "update link:/vx-ov port_learning"]
    execute(topology, plan.steps)
    assert port_learning("vx-ov") is False
    assert bridge_entries("br-ov") == {MAC_B: ("vx-ov", "static")}
    assert plan_host("local", desired, observe(topology)).empty


@pytest.mark.usefixtures("underlay")
def test_a_tunnel_port_disabled_by_hand_is_set_forwarding_with_its_entries_kept(
        topology: str) -> None:
    """`state 0` on the tunnel's port cuts the overlay on this host: an update of the
    port's state, not a replace (which would remake the device and its entries)."""
    wanted = overlay()
    create(topology, *wanted)
    sh("bridge link set dev vx-ov state 0")
    assert run_json("bridge", "-j", "link", "show", "dev", "vx-ov")[0]["state"] == "disabled"
    desired = HostState(resources=keyed(*wanted))
    plan = plan_host("local", desired, observe(topology))
    assert [f"{s.op} {s.resource.key} {','.join(s.fields)}" for s in plan.steps] == [
        "update link:/vx-ov port_state"]
    execute(topology, plan.steps)
    assert run_json("bridge", "-j", "link", "show", "dev", "vx-ov")[0]["state"] == "forwarding"
    assert port_learning("vx-ov") is False
    assert bridge_entries("br-ov") == {MAC_B: ("vx-ov", "static")}
    assert plan_host("local", desired, observe(topology)).empty


@pytest.mark.usefixtures("underlay")
def test_a_remote_mac_the_bridge_learned_becomes_its_static_entry(topology: str) -> None:
    """As on a host an older netplan made, whose VXLAN port learned: the entry is taken
    over, not refused as existing."""
    wanted = overlay()
    create(topology, *wanted[:6])
    sh(f"bridge fdb add {MAC_B} dev vx-ov master dynamic")
    assert bridge_entries("br-ov") == {MAC_B: ("vx-ov", "")}
    desired = HostState(resources=keyed(*wanted))
    plan = plan_host("local", desired, observe(topology))
    assert [f"{s.op} {s.resource.key}" for s in plan.steps] == [
        f"create bridge-fdb:br-ov/{MAC_B}"]
    execute(topology, plan.steps)
    assert bridge_entries("br-ov") == {MAC_B: ("vx-ov", "static")}
    assert plan_host("local", desired, observe(topology)).empty


@pytest.mark.usefixtures("underlay")
def test_entries_made_non_permanent_by_hand_are_made_permanent_again(topology: str) -> None:
    """A tunnel's FDB entry or neighbour entry that is no longer permanent is not observed
    as ours: the plan creates it, replacing the kernel's entry (it used to fail as
    existing, on every apply)."""
    wanted = overlay()
    create(topology, *wanted)
    sh(f"bridge fdb replace {MAC_B} dev vx-ov dst {PEER_B} self dynamic"
       f" && ip neigh replace 10.88.0.2 lladdr {MAC_B} dev vx-ov nud reachable")
    desired = HostState(resources=keyed(*wanted))
    plan = plan_host("local", desired, observe(topology))
    assert sorted(f"{s.op} {s.resource.key}" for s in plan.steps) == [
        f"create fdb:vx-ov/{MAC_B}/{PEER_B}", "create neigh:vx-ov/10.88.0.2"]
    execute(topology, plan.steps)
    shown = run_json("bridge", "-j", "fdb", "show", "dev", "vx-ov")
    assert [e["state"] for e in shown if e["mac"] == MAC_B and "self" in e["flags"]] == [
        "permanent"]
    assert [e["state"] for e in ip("neigh", "show", "dev", "vx-ov")] == [["PERMANENT"]]
    assert plan_host("local", desired, observe(topology)).empty


@pytest.mark.usefixtures("underlay")
@pytest.mark.parametrize(("hint", "expected"), [
    ("ul0", Underlay("ul0", "ul0", LOCAL, 1500)),
    (LOCAL, Underlay(LOCAL, "ul0", LOCAL, 1500)),
    ("eth9", Underlay("eth9", error="there is no interface eth9")),
    ("ul0p", Underlay("ul0p", error="interface ul0p has no IPv4 address")),
    ("192.0.2.1", Underlay("192.0.2.1", error="no interface has the address 192.0.2.1")),
])
def test_the_underlay_is_found_by_name_or_address(hint: str, expected: Underlay) -> None:
    assert observe("t", hint).facts.underlay == expected


@pytest.mark.usefixtures("underlay")
def test_a_down_underlay_is_reported_with_its_facts() -> None:
    sh("ip link set ul0 down")
    assert observe("t", "ul0").facts.underlay == Underlay(
        "ul0", "ul0", LOCAL, 1500, "interface ul0 is down")


@pytest.mark.usefixtures("underlay")
def test_the_protocol_carries_the_underlay_both_ways() -> None:
    reply = handle({"version": PROTOCOL_VERSION, "op": "observe", "topology": "t",
                    "underlay": "ul0"})
    in_use = {f"{LOCAL}/24": "ul0"}  # a link the topology does not own: Facts.prefixes
    assert reply["state"]["facts"] == {"underlay": {
        "hint": "ul0", "interface": "ul0", "address": LOCAL, "mtu": 1500, "error": ""},
        "prefixes": in_use}
    plain = handle({"version": PROTOCOL_VERSION, "op": "observe", "topology": "t"})
    assert plain["state"]["facts"] == {"prefixes": in_use}
    sh(f"ip link add vx-theirs type vxlan id 4096 local {LOCAL} dev ul0 dstport 4790")
    other = handle({"version": PROTOCOL_VERSION, "op": "observe", "topology": "t"})
    sh("ip link del vx-theirs")
    assert other["state"]["facts"] == {
        "prefixes": in_use, "vnis_in_use": {"vx-theirs": {"vni": 4096, "port": 4790}}}
    bad = handle({"version": PROTOCOL_VERSION, "op": "observe", "topology": "t", "underlay": 5})
    assert bad["ok"] is False and "'underlay' must be a string" in bad["error"]["message"]


@pytest.mark.usefixtures("underlay")
def test_steps_for_a_missing_underlay_fail_naming_the_tunnel(topology: str) -> None:
    tunnel = replace(overlay()[1], dev="eth9")
    reply = handle({"version": PROTOCOL_VERSION, "op": "apply", "topology": topology,
                    "steps": [Step("create", Bridge("br-ov", "ov")).to_json(),
                              Step("create", tunnel).to_json()]})
    assert reply["ok"] is False
    assert reply["error"]["message"].startswith("step 2: cannot create vxlan vx-ov:")


@pytest.mark.usefixtures("underlay")
def test_a_vni_another_device_uses_is_refused_in_the_kernels_words(topology: str) -> None:
    sh(f"ip link add vx-theirs type vxlan id 42 local {LOCAL} dev ul0 dstport 4789")
    reply = handle({"version": PROTOCOL_VERSION, "op": "apply", "topology": topology,
                    "steps": [Step("create", r).to_json() for r in overlay()[:2]]})
    sh("ip link del vx-theirs")
    assert reply["error"]["message"] == (
        "step 2: cannot create vxlan vx-ov: already exists "
        "(kernel: A VXLAN device with the specified VNI already exists)")
