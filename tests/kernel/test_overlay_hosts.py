"""The overlay across simulated hosts in the sandbox (no lab, no SSH): the demo topology
applied by the pipeline through an agent process per host, containers pinging across
the VXLAN tunnel, and no ARP crossing the underlay (counted in packets)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from netplan.topology.loader import load_topology
from netplan.topology.model import Topology
from tests.kernel.sim_hosts import SimHost, converge, simulated_hosts

DEMO = Path(__file__).parents[2] / "topologies" / "overlay.yaml"


@pytest.fixture
def two() -> Iterator[dict[str, SimHost]]:
    with simulated_hosts("hostA", "hostB") as hosts:
        yield hosts


@pytest.fixture
def three() -> Iterator[dict[str, SimHost]]:
    with simulated_hosts("hostA", "hostB", "hostC") as hosts:
        yield hosts


def variant(tmp_path: Path, **changes: Any) -> Topology:
    """The demo with top-level or overlay settings changed (and without its reachability
    checks, which name its containers)."""
    spec = yaml.safe_load(DEMO.read_text())
    spec.pop("checks", None)
    spec["networks"]["overlay"].update(changes.pop("overlay", {}))
    spec.update(changes)
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return load_topology(path)


def test_the_demo_pings_across_the_tunnel(two: dict[str, SimHost]) -> None:
    topology = load_topology(DEMO)
    converge(two, topology)
    a, b = two["hostA"], two["hostB"]
    for host in (a, b):
        [tunnel] = host.json("ip", "-d", "-j", "link", "show", "vx-overlay")
        info = tunnel["linkinfo"]["info_data"]
        assert (info["id"], info["local"], info["link"], info["port"]) == (
            42, host.address, "ul0", 4789)
        assert (tunnel["mtu"], tunnel["master"]) == (1450, "br-overlay")
    [web] = a.json("ip", "-n", "web", "-j", "addr", "show", "eth0")
    assert web["mtu"] == 1450
    assert [(i["local"], i["prefixlen"]) for i in web["addr_info"]] == [("10.88.0.1", 24)]
    assert a.json("ip", "-n", "web", "-j", "route") == [
        {"dst": "10.88.0.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link",
         "prefsrc": "10.88.0.1", "flags": []}]
    fdb = a.json("bridge", "-j", "fdb", "show", "dev", "vx-overlay")
    assert {(e["mac"], e["dst"]) for e in fdb if "self" in e["flags"]} == {
        ("00:00:00:00:00:00", b.address), ("02:42:0a:58:00:02", b.address)}
    assert a.ping("web", "10.88.0.2") and b.ping("db", "10.88.0.1")
    assert a.ping("web", "10.88.0.2", "-M", "do", "-s", "1422")  # a full 1450-byte packet
    assert not a.ping("web", "10.88.0.2", "-M", "do", "-s", "1423")
    converge(two, topology, destroy=True)
    for host in (a, b):
        assert host.json("ip", "-j", "link", "show", "type", "vxlan") == []
        assert host.json("ip", "-j", "netns", "list") == []


def test_no_arp_crosses_the_underlay_unless_peers_are_left_to_flooding(
        two: dict[str, SimHost], tmp_path: Path) -> None:
    """With static peers the VXLAN device answers ARP from its neighbour entries: 3
    pings to a remote container cost exactly 3 packets each way on the underlay, and
    asking for an address nobody has costs none. Without them ARP floods to every host."""
    a = two["hostA"]
    converge(two, load_topology(DEMO))
    a.run("ip", "-n", "web", "neigh", "flush", "all")
    before = a.quiet_underlay()
    assert a.ping("web", "10.88.0.2", "-c", "3", "-i", "0.2")
    assert not a.ping("web", "10.88.0.99", "-c", "2", "-i", "0.2", "-W", "1")
    sent, received = (now - then for now, then in zip(a.underlay_packets(), before, strict=True))
    assert (sent, received) == (3, 3)

    converge(two, variant(tmp_path, overlay={"static_peers": False}))
    before = a.quiet_underlay()
    assert not a.ping("web", "10.88.0.99", "-c", "2", "-i", "0.2", "-W", "1")
    assert a.underlay_packets()[0] - before[0] >= 2  # the ARP requests, sent to hostB
    assert a.ping("web", "10.88.0.2")


def test_a_host_whose_underlay_address_changes_keeps_its_tunnel_and_is_reached_there(
        two: dict[str, SimHost], tmp_path: Path) -> None:
    """hostB's tunnels now leave from another of its addresses: its VXLAN device changes
    its local address in place (same ifindex, entries kept), and hostA's entries towards
    hostB move to that address; the containers ping each other through it."""
    a, b = two["hostA"], two["hostB"]
    converge(two, variant(tmp_path))
    [before] = b.json("ip", "-j", "link", "show", "vx-overlay")
    b.run("ip", "addr", "add", "192.168.77.22/24", "dev", "ul0")
    moved = {"hostA": {}, "hostB": {"underlay": "192.168.77.22"}}
    plans = converge(two, variant(tmp_path, hosts=moved))
    assert [f"{s.op} {s.resource.key} {','.join(s.fields)}" for s in plans["hostB"].steps] == [
        "update link:/vx-overlay local"]
    assert sorted(f"{s.op} {s.resource.key}" for s in plans["hostA"].steps) == [
        "create fdb:vx-overlay/00:00:00:00:00:00/192.168.77.22",
        "create fdb:vx-overlay/02:42:0a:58:00:02/192.168.77.22",
        f"delete fdb:vx-overlay/00:00:00:00:00:00/{b.address}",
        f"delete fdb:vx-overlay/02:42:0a:58:00:02/{b.address}"]
    [after] = b.json("ip", "-d", "-j", "link", "show", "vx-overlay")
    assert after["ifindex"] == before["ifindex"]
    assert after["linkinfo"]["info_data"]["local"] == "192.168.77.22"
    fdb = a.json("bridge", "-j", "fdb", "show", "dev", "vx-overlay")
    assert {(e["mac"], e["dst"]) for e in fdb if "self" in e["flags"]} == {
        ("00:00:00:00:00:00", "192.168.77.22"), ("02:42:0a:58:00:02", "192.168.77.22")}
    assert a.ping("web", "10.88.0.2") and b.ping("db", "10.88.0.1")


def test_a_third_host_joins_and_leaves_with_only_its_peer_entries_planned(
        three: dict[str, SimHost], tmp_path: Path) -> None:
    converge(three, variant(tmp_path, hosts=["hostA", "hostB", "hostC"]))
    containers = {"web": {"host": "hostA", "networks": ["overlay"]},
                  "db": {"host": "hostB", "networks": ["overlay"]},
                  "cache": {"host": "hostC", "networks": ["overlay"]}}
    plans = converge(three, variant(tmp_path, hosts=list(three), containers=containers))
    expected = ["create bridge-fdb:br-overlay/02:42:0a:58:00:03",
                "create fdb:vx-overlay/00:00:00:00:00:00/192.168.77.13",
                "create fdb:vx-overlay/02:42:0a:58:00:03/192.168.77.13",
                "create neigh:vx-overlay/10.88.0.3"]
    for name, local in (("hostA", "web"), ("hostB", "db")):  # and its container now knows cache
        assert sorted(f"{c.action} {c.key}" for c in plans[name].changes) == [
            *expected, f"update hosts:{local}"]
    assert three["hostA"].ping("web", "10.88.0.3") and three["hostC"].ping("cache", "10.88.0.2")

    del containers["db"]
    plans = converge(three, variant(tmp_path, hosts=list(three), containers=containers))
    assert sorted(f"{c.action} {c.key}" for c in plans["hostA"].changes) == [
        "delete bridge-fdb:br-overlay/02:42:0a:58:00:02",
        "delete fdb:vx-overlay/00:00:00:00:00:00/192.168.77.12",
        "delete fdb:vx-overlay/02:42:0a:58:00:02/192.168.77.12",
        "delete neigh:vx-overlay/10.88.0.2",
        "update hosts:web"]
    assert three["hostB"].json("ip", "-j", "link", "show", "type", "vxlan") == []
    assert three["hostA"].ping("web", "10.88.0.3")
