"""macvlan through the CLI, on a parent veth whose other end is a "LAN" namespace with a
LAN host at 192.168.77.1: containers reach it with their own addresses (no NAT), bridge
and private modes, parents that exist (left alone) or are made as VLANs, drift, destroy."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from netplan.agent.facts import vlan_support
from tests.cache_view import assert_ready_for_the_check
from tests.e2e.hostview import (
    TOPOLOGIES,
    Run,
    assert_returns_to,
    assert_unchanged,
    ip_json,
    ping,
    settled_snapshot,
    snapshot,
)

EXAMPLE = TOPOLOGIES / "macvlan.yaml"
LAN_HOST = "192.168.77.1"
PARENT = "eth0"
"""The parent the example names; the sandbox has none, so the `lan` fixture makes it."""


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


@pytest.fixture
def lan() -> Iterator[str]:
    """Namespace `lan` holding the LAN host; its veth peer in the host is PARENT."""
    sh("ip", "netns", "add", "lan")
    try:
        sh("ip", "link", "add", PARENT, "type", "veth", "peer", "name", "lan0", "netns", "lan")
        up(PARENT)
        sh("ip", "-n", "lan", "address", "add", f"{LAN_HOST}/24", "dev", "lan0")
        sh("ip", "-n", "lan", "link", "set", "lan0", "up")
        sh("ip", "-n", "lan", "link", "set", "lo", "up")
        carrier(PARENT)
        yield "lan"
    finally:
        subprocess.run(["ip", "link", "del", PARENT], capture_output=True)  # now, not later
        sh("ip", "netns", "del", "lan")


def carrier(name: str, timeout: float = 10.0) -> None:
    """Wait until the link has carrier: the kernel drops NO-CARRIER some time after its
    peer comes up, and a test's snapshots taken on both sides of that would differ."""
    deadline = time.monotonic() + timeout
    while "NO-CARRIER" in ip_json("link", "show", "dev", name)[0]["flags"]:
        assert time.monotonic() < deadline, f"{name} got no carrier in {timeout:g} s"
        time.sleep(0.05)


def up(parent: str) -> None:
    """Without an IPv6 link-local address, whose DAD would change snapshots meanwhile."""
    sh("ip", "link", "set", parent, "addrgenmode", "none")
    sh("ip", "link", "set", parent, "up")


def variant(tmp_path: Path, name: str, **network: Any) -> Path:
    """The example under another name, its network changed by `network`."""
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec["name"] = name
    spec["networks"]["lan"].update(network)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def link(netns: str, dev: str) -> dict[str, Any]:
    [found] = ip_json("-n", netns, "-d", "address", "show", "dev", dev)
    return found  # type: ignore[no-any-return]


def source_seen_by_lan(container: str) -> str:
    """The source address of a UDP datagram from `container`, as the LAN host sees it."""
    server = subprocess.Popen(
        ["ip", "netns", "exec", "lan", "python3", "-c",
         "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
         f"s.bind(('{LAN_HOST}', 9999)); print('ready', flush=True); "
         "s.settimeout(10); print(s.recvfrom(100)[1][0], flush=True)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        sh("ip", "netns", "exec", container, "python3", "-c",
           "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
           f".sendto(b'hi', ('{LAN_HOST}', 9999))")
        return server.stdout.readline().strip()
    finally:
        server.wait(timeout=15)


def test_example_puts_containers_on_the_lan(lan: str, run: Run, clean_host: None) -> None:
    before = snapshot()
    assert run("apply", EXAMPLE, "--yes", check=True).returncode == 0
    assert_ready_for_the_check(EXAMPLE)

    for container, address, mac in (("alpine1", "192.168.77.192", "02:42:c0:a8:4d:c0"),
                                    ("alpine2", "192.168.77.193", "02:42:c0:a8:4d:c1")):
        eth0 = link(container, "eth0")
        assert eth0["linkinfo"]["info_kind"] == "macvlan"
        assert eth0["linkinfo"]["info_data"]["mode"] == "bridge"
        assert eth0["address"] == mac
        assert [a["local"] for a in eth0["addr_info"] if a["family"] == "inet"] == [address]
        [default] = ip_json("-n", container, "route", "show", "default")
        assert default["gateway"] == LAN_HOST and default["dev"] == "eth0"
    assert ping("alpine1", LAN_HOST)
    assert ping("alpine1", "192.168.77.193")  # bridge mode: containers reach each other
    assert source_seen_by_lan("alpine2") == "192.168.77.193"  # no NAT
    neighbours = {n["dst"]: n.get("lladdr") for n in ip_json("-n", lan, "neigh", "show")}
    assert neighbours["192.168.77.192"] == "02:42:c0:a8:4d:c0"

    assert "Nothing to apply" in run("apply", EXAMPLE, "--yes", check=True).stdout
    sh("ip", "-n", "alpine1", "link", "del", "eth0")
    drift = run("check", EXAMPLE)
    assert drift.returncode == 2 and "link:alpine1/eth0" in drift.stdout
    run("apply", EXAMPLE, "--yes", check=True)
    assert ping("alpine1", LAN_HOST)
    assert run("check", EXAMPLE).returncode == 0

    run("destroy", EXAMPLE, "--yes", check=True)
    assert run("plan", EXAMPLE, "--destroy", "--detailed-exitcode").returncode == 0
    assert_returns_to(before)  # the parent is left as it was


def test_private_mode_keeps_containers_apart(lan: str, run: Run, clean_host: None,
                                             tmp_path: Path) -> None:
    path = variant(tmp_path, "macvlan-private", mode="private")
    before = snapshot()
    try:
        run("apply", path, "--yes", check=True)
        assert link("alpine1", "eth0")["linkinfo"]["info_data"]["mode"] == "private"
        assert ping("alpine1", LAN_HOST)
        assert not ping("alpine1", "192.168.77.193")
        assert run("plan", path, "--detailed-exitcode").returncode == 0
    finally:
        run("destroy", path, "--yes", check=True)
    assert_returns_to(before)


def test_passthru_takes_the_parent_whole(lan: str, run: Run, clean_host: None,
                                        tmp_path: Path) -> None:
    path = variant(tmp_path, "macvlan-passthru", mode="passthru")
    spec = yaml.safe_load(path.read_text())
    del spec["containers"]["alpine2"]
    path.write_text(yaml.safe_dump(spec))
    before = snapshot()
    try:
        run("apply", path, "--yes", check=True)
        eth0 = link("alpine1", "eth0")
        assert eth0["linkinfo"]["info_data"]["mode"] == "passthru"
        assert eth0["address"] == ip_json("link", "show", PARENT)[0]["address"]  # unchanged
        assert ping("alpine1", LAN_HOST)
        assert run("plan", path, "--detailed-exitcode").returncode == 0
    finally:
        run("destroy", path, "--yes", check=True)
    assert_returns_to(before)


def test_mode_change_is_a_replace(lan: str, run: Run, clean_host: None,
                                  tmp_path: Path) -> None:
    run("apply", EXAMPLE, "--yes", check=True)
    private = variant(tmp_path, "macvlan", mode="private")  # the example's name: clean_host
    plan = run("plan", private)
    assert "cannot change mode bridge → private in place" in plan.stdout
    run("apply", private, "--yes", "--replace", check=True)  # EXAMPLE still declares it
    assert link("alpine2", "eth0")["linkinfo"]["info_data"]["mode"] == "private"
    assert run("plan", private, "--detailed-exitcode").returncode == 0
    run("destroy", private, "--yes", check=True)
    settled_snapshot()  # for clean_host: macvlans of deleted namespaces go in the background


def test_an_existing_dotted_parent_is_used_and_left_alone(run: Run, clean_host: None,
                                                          tmp_path: Path) -> None:
    """`eth0.20` exists (a veth here, not a VLAN): netplan makes no VLAN and never touches it."""
    sh("ip", "link", "add", "eth0.20", "type", "veth", "peer", "name", "lan20")
    try:
        up("eth0.20")
        path = variant(tmp_path, "macvlan-dotted", parent="eth0.20")
        before = snapshot()
        run("apply", path, "--yes", check=True)
        assert not [x for x in ip_json("-d", "link", "show")
                    if x.get("linkinfo", {}).get("info_kind") == "vlan"]
        assert link("alpine1", "eth0")["link_index"] == ip_json("link", "show", "eth0.20")[0][
            "ifindex"]
        assert run("plan", path, "--detailed-exitcode").returncode == 0
        run("destroy", path, "--yes", check=True)
        assert_returns_to(before)
    finally:
        sh("ip", "link", "del", "eth0.20")


@pytest.mark.skipif(not vlan_support(), reason="this kernel has no 802.1Q support")
def test_a_missing_vlan_parent_is_made_and_removed(lan: str, run: Run, clean_host: None,
                                                   tmp_path: Path) -> None:
    path = variant(tmp_path, "macvlan-vlan", parent=f"{PARENT}.10")
    before = snapshot()
    run("apply", path, "--yes", check=True)
    [vlan] = ip_json("-d", "link", "show", f"{PARENT}.10")
    assert vlan["linkinfo"]["info_kind"] == "vlan"
    assert vlan["linkinfo"]["info_data"]["id"] == 10
    assert vlan["link"] == PARENT
    assert run("plan", path, "--detailed-exitcode").returncode == 0
    run("destroy", path, "--yes", check=True)
    assert f"{PARENT}.10" not in {x["ifname"] for x in ip_json("link", "show")}
    assert_returns_to(before)


@pytest.mark.skipif(vlan_support(), reason="this kernel can make VLAN links")
def test_a_vlan_parent_without_kernel_support_is_one_clear_error(
    lan: str, run: Run, clean_host: None, tmp_path: Path
) -> None:
    path = variant(tmp_path, "macvlan-vlan", parent=f"{PARENT}.10")
    before = snapshot()
    result = run("apply", path, "--yes")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert f"host 'local' has no interface '{PARENT}.10'" in line and "802.1Q" in line
    assert_unchanged(before, snapshot())


def test_a_missing_parent_is_one_clear_error(run: Run, clean_host: None,
                                             tmp_path: Path) -> None:
    path = variant(tmp_path, "macvlan-missing", parent="nosuch0")
    before = snapshot()
    for command in (("plan",), ("apply", "--yes")):
        result = run(*command, path)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        [line] = result.stderr.splitlines()
        assert "networks.lan.parent: host 'local' has no interface 'nosuch0'" in line, line
        assert "hint:" in line
    assert_unchanged(before, snapshot())
