"""The overlay demo on two lab hosts over SSH, as a user runs it: a VXLAN tunnel between
the hosts' underlays, containers pinging across it, and a host going down meanwhile."""

from __future__ import annotations

from pathlib import Path

import yaml

from netplan.topology import Topology
from providers.lab import Lab, up
from tests.e2e.hostview import netplan
from tests.multihost.labview import addresses, host_json, links, netns_names, ping

DEMO = Path(__file__).parents[2] / "topologies" / "overlay.yaml"


def in_sync() -> bool:
    return netplan("plan", DEMO, "-p", "lab", "--detailed-exitcode").returncode == 0


def test_the_overlay_demo_pings_across_lab_hosts(lab: Lab) -> None:
    applied = netplan("apply", DEMO, "-p", "lab", "--yes", check=True)
    assert "hostA  applied" in applied.stdout and "hostB  applied" in applied.stdout
    for name, host in lab.hosts.items():
        tunnel = links(lab, name)["vx-overlay"]
        info = tunnel["linkinfo"]["info_data"]
        assert (info["id"], info["local"], info["link"], info["port"]) == (
            42, host.address, "ul0", 4789)
        assert (tunnel["mtu"], tunnel["master"]) == (1450, "br-overlay")
    peer = lab.hosts["hostB"].address
    fdb = host_json(lab, "hostA", "bridge", "-j", "fdb", "show", "dev", "vx-overlay")
    assert {(e["mac"], e["dst"]) for e in fdb if "self" in e["flags"]} == {
        ("00:00:00:00:00:00", peer), ("02:42:0a:58:00:02", peer)}
    assert addresses(lab, "hostA", "web", "eth0") == {"10.88.0.1/24"}
    assert addresses(lab, "hostB", "db", "eth0") == {"10.88.0.2/24"}
    assert ping(lab, "hostA", "web", "10.88.0.2") and ping(lab, "hostB", "db", "10.88.0.1")
    assert in_sync()
    assert netplan("check", DEMO, "-p", "lab").returncode == 0
    shown = netplan("show", DEMO, "-p", "lab", check=True)
    assert Topology.model_validate(yaml.safe_load(shown.stdout)).networks["overlay"].vni == 42
    netplan("destroy", DEMO, "-p", "lab", "--yes", check=True)
    assert netns_names(lab, "hostA") == netns_names(lab, "hostB") == set()
    assert "vx-overlay" not in links(lab, "hostA")


def test_the_overlay_keeps_running_while_a_host_is_down(lab: Lab, lab_dir: Path) -> None:
    """hostB stops: hostA keeps its tunnel to it (nothing to change there) and the run
    fails for hostB only; once hostB is back, a re-run rebuilds it and they ping again."""
    netplan("apply", DEMO, "-p", "lab", "--yes", check=True)
    lab.hosts["hostB"].process.stop()
    failed = netplan("apply", DEMO, "-p", "lab", "--yes")
    assert failed.returncode == 1
    assert "hostA  in sync" in failed.stdout and "hostB  failed at connect" in failed.stdout
    restarted = up(["hostA", "hostB"], lab_dir)
    converged = netplan("apply", DEMO, "-p", "lab", "--yes", check=True)
    assert "hostA  in sync" in converged.stdout and "hostB  applied" in converged.stdout
    assert ping(restarted, "hostA", "web", "10.88.0.2")
    assert in_sync()
    netplan("destroy", DEMO, "-p", "lab", "--yes", check=True)
