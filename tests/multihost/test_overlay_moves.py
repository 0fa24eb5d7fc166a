"""A container's MAC changing host on an overlay: a container moved to another lab host,
and a removed container's address (and so its MAC) given to a new container on another
host. Each is reachable from both hosts right after the apply that moves it, without
waiting for the bridges to forget (300 s) or the container to speak first: the VXLAN
port learns nothing, and (with static_peers) every remote container's MAC is a static
entry of the bridge. Checked with `ping` from both hosts, `bridge -j fdb` and
`ip -j -d link`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from providers.lab import Lab
from tests.e2e.hostview import netplan
from tests.multihost.labview import host_json, links, ping


def overlay(path: Path, placed: dict[str, str], static_peers: bool = True) -> Path:
    """Topology `moves`: one overlay, container → host as `placed` says, in that order."""
    network = {"driver": "overlay", "subnet": "10.90.0.0/24", "static_peers": static_peers}
    topology = {
        "name": "moves",
        "hosts": ["hostA", "hostB"],
        "networks": {"ov": network},
        "containers": {name: {"host": host, "networks": ["ov"]} for name, host in placed.items()},
    }
    path.write_text(yaml.safe_dump(topology, sort_keys=False))
    return path


def apply(topology: Path) -> None:
    netplan("apply", topology, "-p", "lab", "--yes", check=True)


def in_sync(topology: Path) -> bool:
    return netplan("plan", topology, "-p", "lab", "--detailed-exitcode").returncode == 0


def bridge_entries(lab: Lab, host: str) -> dict[str, str]:
    """MAC → state of the bridge br-ov's own entries (`master`) on the VXLAN port vx-ov:
    `static` (netplan's) or "" (learned); the port's own address left out."""
    found = host_json(lab, host, "bridge", "-j", "fdb", "show", "br", "br-ov")
    return {e["mac"]: e["state"] for e in found
            if e.get("ifname") == "vx-ov" and "self" not in e["flags"]
            and e["state"] != "permanent"}


def assert_reaches(lab: Lab, address: str) -> None:
    """a1 on hostA and b1 on hostB both reach `address` at once."""
    assert ping(lab, "hostA", "a1", address), f"a1 on hostA does not reach {address}"
    assert ping(lab, "hostB", "b1", address), f"b1 on hostB does not reach {address}"


def assert_port_learns_nothing(lab: Lab) -> None:
    for host in lab.hosts:
        port = links(lab, host)["vx-ov"]["linkinfo"]
        assert port["info_slave_kind"] == "bridge"
        assert port["info_slave_data"]["learning"] is False


@pytest.mark.parametrize("static_peers", [True, False])
def test_a_container_moved_to_another_host_is_reachable_at_once(
    lab: Lab, tmp_path: Path, static_peers: bool
) -> None:
    topology = tmp_path / "moves.yaml"
    apply(overlay(topology, {"a1": "hostA", "b1": "hostB", "x": "hostB"}, static_peers))
    assert ping(lab, "hostB", "x", "10.90.0.1")  # x speaks across: nothing may learn it
    x_mac = links(lab, "hostB", "x")["eth0"]["address"]
    remote = links(lab, "hostB", "b1")["eth0"]["address"]
    static = {x_mac: "static", remote: "static"} if static_peers else {}
    assert bridge_entries(lab, "hostA") == static  # and nothing learned
    assert_port_learns_nothing(lab)

    apply(overlay(topology, {"a1": "hostA", "b1": "hostB", "x": "hostA"}, static_peers))
    assert links(lab, "hostA", "x")["eth0"]["address"] == x_mac  # same address, same MAC
    assert x_mac not in bridge_entries(lab, "hostA")  # x is local to hostA now
    assert bridge_entries(lab, "hostB").get(x_mac) == ("static" if static_peers else None)
    assert_reaches(lab, "10.90.0.3")
    assert in_sync(topology)
    assert netplan("check", topology, "-p", "lab").returncode == 0
    netplan("destroy", topology, "-p", "lab", "--yes", check=True)


def test_an_address_reused_on_another_host_is_reachable_at_once(
    lab: Lab, tmp_path: Path
) -> None:
    """y (10.90.0.3) on hostB goes; z, new on hostA, gets its address and MAC."""
    topology = tmp_path / "moves.yaml"
    apply(overlay(topology, {"a1": "hostA", "b1": "hostB", "y": "hostB"}))
    assert ping(lab, "hostB", "y", "10.90.0.1")
    y_mac = links(lab, "hostB", "y")["eth0"]["address"]

    apply(overlay(topology, {"a1": "hostA", "b1": "hostB", "z": "hostA"}))
    assert links(lab, "hostA", "z")["eth0"]["address"] == y_mac
    assert y_mac not in bridge_entries(lab, "hostA")
    assert_reaches(lab, "10.90.0.3")
    assert in_sync(topology)
    netplan("destroy", topology, "-p", "lab", "--yes", check=True)


def test_learning_turned_on_by_hand_is_drift_that_apply_repairs(
    lab: Lab, tmp_path: Path
) -> None:
    topology = tmp_path / "moves.yaml"
    apply(overlay(topology, {"a1": "hostA", "b1": "hostB"}))
    turned = ("ip", "link", "set", "vx-ov", "type", "bridge_slave", "learning", "on")
    assert host_json(lab, "hostA", *turned) == []
    assert links(lab, "hostA")["vx-ov"]["linkinfo"]["info_slave_data"]["learning"] is True
    checked = netplan("check", topology, "-p", "lab")
    assert checked.returncode == 2
    assert "link:/vx-ov.port_learning: desired False, observed True" in checked.stdout
    apply(topology)
    assert_port_learns_nothing(lab)
    assert in_sync(topology)
    netplan("destroy", topology, "-p", "lab", "--yes", check=True)
