"""An overlay over several lab hosts: a five-host full mesh where every container reaches
every other, and a host taken out of a three-host overlay's file. Checked from inside the hosts with
`ping`, `ip -d -j link`, `ip -j neigh` and `bridge -j fdb`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from providers.lab import Lab, default_names, down, up
from tests.e2e.hostview import assert_unchanged, netplan, snapshot
from tests.multihost.labview import alive, host_json, in_host, links, netns_names

FLOOD = "00:00:00:00:00:00"
PING_ALL = 'for a in "$@"; do (ping -n -q -c 1 -W 2 "$a" >/dev/null 2>&1 || echo "$a") & done; wait'
"""Pings every address given at once; prints those that did not answer."""


def lab_of(count: int, lab_dir: Path) -> Iterator[Lab]:
    """A fresh lab of `count` hosts, removed after the test, leaving nothing behind."""
    before = snapshot()
    lab = up(default_names(count), lab_dir)
    yield lab
    pids = [host.process.pid for host in lab.hosts.values()]
    down(lab_dir)
    assert not [pid for pid in pids if alive(pid)]
    assert_unchanged(before, snapshot())


@pytest.fixture
def five_hosts(lab_dir: Path) -> Iterator[Lab]:
    yield from lab_of(5, lab_dir)


@pytest.fixture
def three_hosts(lab_dir: Path) -> Iterator[Lab]:
    yield from lab_of(3, lab_dir)


def mesh(path: Path, per_host: dict[str, int]) -> Path:
    """Topology `mesh`: one overlay (VNI 4200) and `per_host[host]` containers on it per host."""
    topology = {
        "name": "mesh",
        "hosts": list(per_host),
        "networks": {"overlay": {"driver": "overlay", "subnet": "10.89.0.0/24", "vni": 4200}},
        "containers": {
            f"{host[4:].lower()}{index}": {"host": host, "networks": ["overlay"]}
            for host, count in per_host.items()
            for index in range(count)
        },
    }
    path.write_text(yaml.safe_dump(topology, sort_keys=False))
    return path


def in_sync(topology: Path) -> bool:
    return netplan("plan", topology, "-p", "lab", "--detailed-exitcode").returncode == 0


def containers(lab: Lab, hosts: list[str]) -> dict[str, tuple[str, str, str]]:
    """Every container namespace on `hosts`: its host, and its eth0's IPv4 address and MAC."""
    found = {}
    for host in hosts:
        for netns in netns_names(lab, host):
            (eth0,) = host_json(lab, host, "ip", "-n", netns, "-j", "address", "show", "eth0")
            (ip,) = [a["local"] for a in eth0["addr_info"] if a["family"] == "inet"]
            found[netns] = (host, ip, eth0["address"])
    return found


def unreachable(lab: Lab, found: dict[str, tuple[str, str, str]]) -> set[tuple[str, str]]:
    """(from, to) for every pair of containers where `to` did not answer `from`'s ping;
    every container pings all the others at once, and the containers all at once."""

    def from_one(source: str) -> set[tuple[str, str]]:
        host = found[source][0]
        targets = [ip for name, (_, ip, _) in found.items() if name != source]
        result = in_host(lab, host, "ip", "netns", "exec", source, "sh", "-c", PING_ALL, "ping",
                         *targets)  # fmt: skip
        return {(source, ip) for ip in result.stdout.split()}

    with ThreadPoolExecutor(max_workers=len(found)) as pool:
        return set().union(*pool.map(from_one, found))


def tunnel(lab: Lab, host: str) -> dict[str, Any]:
    """The host's one VXLAN device, as `ip -d -j link` shows it."""
    (device,) = [
        link for link in links(lab, host).values()
        if link.get("linkinfo", {}).get("info_kind") == "vxlan"
    ]  # fmt: skip
    return device


def peers(lab: Lab, host: str, device: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """The device's FDB entries (MAC, VTEP) and neighbour entries (IP, MAC)."""
    fdb = host_json(lab, host, "bridge", "-j", "fdb", "show", "dev", device)
    neigh = host_json(lab, host, "ip", "-j", "neigh", "show", "dev", device)
    return (
        {(e["mac"], e["dst"]) for e in fdb if "self" in e["flags"] and "dst" in e},
        {(e["dst"], e["lladdr"]) for e in neigh if "lladdr" in e},
    )


def bridge_statics(lab: Lab, host: str, device: str) -> set[str]:
    """The MACs the tunnel's bridge has as static entries on the tunnel."""
    fdb = host_json(lab, host, "bridge", "-j", "fdb", "show", "dev", device)
    return {e["mac"] for e in fdb if "self" not in e["flags"] and e["state"] == "static"}


def expected_peers(
    lab: Lab, host: str, found: dict[str, tuple[str, str, str]], overlay: list[str]
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Head-end replication to every other VTEP of the overlay's hosts, and each remote
    container's MAC (at its host's VTEP) and address."""
    others = {c for c in found.values() if c[0] != host}
    flood = {(FLOOD, lab.hosts[h].address) for h in overlay if h != host}
    remote = {(mac, lab.hosts[h].address) for h, _, mac in others}
    return flood | remote, {(ip, mac) for _, ip, mac in others}


def test_five_hosts_full_mesh(five_hosts: Lab, tmp_path: Path) -> None:
    lab = five_hosts
    names = list(lab.hosts)
    topology = mesh(tmp_path / "mesh.yaml", dict.fromkeys(names, 2))
    applied = netplan("apply", topology, "-p", "lab", "--yes", check=True)
    assert all(f"{host}  applied" in applied.stdout for host in names)
    found = containers(lab, names)
    assert len(found) == 10 and len({ip for _, ip, _ in found.values()}) == 10
    for host in names:
        device = tunnel(lab, host)
        info = device["linkinfo"]["info_data"]
        assert (info["id"], info["local"], info["link"], info["port"]) == (
            4200, lab.hosts[host].address, "ul0", 4789)
        assert device["mtu"] == 1450
        assert peers(lab, host, device["ifname"]) == expected_peers(lab, host, found, names)
        remote = {mac for h, _, mac in found.values() if h != host}
        assert bridge_statics(lab, host, device["ifname"]) == remote
    assert unreachable(lab, found) == set()
    assert in_sync(topology)
    netplan("destroy", topology, "-p", "lab", "--yes", check=True)
    assert not any(netns_names(lab, host) for host in names)


def test_a_host_leaves_the_overlay(three_hosts: Lab, tmp_path: Path) -> None:
    """hostC and its containers leave the file in one edit: hostC is still found (the
    other hosts' rosters name it) and everything on it goes; hostA and hostB only lose
    their entries towards hostC; the rest still ping, and nothing is left to do."""
    lab = three_hosts
    before = mesh(tmp_path / "before.yaml", {"hostA": 2, "hostB": 2, "hostC": 2})
    netplan("apply", before, "-p", "lab", "--yes", check=True)
    found = containers(lab, list(lab.hosts))
    vtep_c = lab.hosts["hostC"].address
    leaving = {(mac, vtep_c) for host, _, mac in found.values() if host == "hostC"}
    left_ips = {ip for host, ip, _ in found.values() if host == "hostC"}

    after = mesh(tmp_path / "after.yaml", {"hostA": 2, "hostB": 2})
    assert netplan("check", after, "-p", "lab").returncode == 2  # pending: the file changed
    plan = json.loads(netplan("plan", after, "-p", "lab", "--json", check=True).stdout)
    for host in ("hostA", "hostB"):
        changes = plan["hosts"][host]["changes"]
        network = [c for c in changes if c["kind"] != "hosts-file"]
        assert {(c["action"], c["kind"]) for c in network} == {
            ("delete", "fdb"), ("delete", "bridge-fdb"), ("delete", "neighbour")}
        assert len(network) == 1 + 3 * len(left_ips)  # the flood entry; three per container
        # and the containers' hosts files no longer name the containers that left
        assert {c["action"] for c in changes if c["kind"] == "hosts-file"} <= {"update"}
    assert plan["hosts"]["hostC"]["changes"]
    assert {c["action"] for c in plan["hosts"]["hostC"]["changes"]} == {"delete"}

    netplan("apply", after, "-p", "lab", "--yes", "--replace", check=True)  # before.yaml: mesh
    assert netns_names(lab, "hostC") == set()
    assert set(links(lab, "hostC")) == {"lo", "ul0"}
    remaining = containers(lab, ["hostA", "hostB"])
    for host in ("hostA", "hostB"):
        fdb, neigh = peers(lab, host, tunnel(lab, host)["ifname"])
        assert (FLOOD, vtep_c) not in fdb and not leaving & fdb
        assert not {ip for ip, _ in neigh} & left_ips
        assert (fdb, neigh) == expected_peers(lab, host, remaining, ["hostA", "hostB"])
    assert unreachable(lab, remaining) == set()
    assert in_sync(after)
    assert netplan("check", after, "-p", "lab").returncode == 0

    netplan("destroy", after, "-p", "lab", "--yes", check=True)
    assert not netns_names(lab, "hostA") and not netns_names(lab, "hostB")
