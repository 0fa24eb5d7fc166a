"""The overlay demo on two lab hosts over SSH, as a user runs it: a VXLAN tunnel between
the hosts' underlays, containers pinging across it and resolving each other's names, its
reachability checks run by `netplan verify` on the hosts they start from (a cut tunnel
fails them, `apply --verify` repairs it), and a host going down meanwhile."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from netplan.topology.model import Topology
from providers.lab import Lab, up
from tests.cache_view import assert_ready_for_the_check
from tests.e2e.hostview import netplan
from tests.multihost.labview import addresses, host_json, in_host, links, netns_names, ping

DEMO = Path(__file__).parents[2] / "topologies" / "overlay.yaml"


def in_sync() -> bool:
    return netplan("plan", DEMO, "-p", "lab", "--detailed-exitcode").returncode == 0


def resolves(lab: Lab, host: str, netns: str, name: str) -> list[str]:
    found = in_host(lab, host, "ip", "netns", "exec", netns, "getent", "hosts", name)
    assert found.returncode in (0, 2), found.stderr
    return found.stdout.split()


@pytest.fixture(scope="class")
def demo(class_lab: Lab) -> Iterator[str]:
    """The demo applied once for the class's tests (each leaves it in sync), its output;
    destroyed after the last test: nothing of it is left on either host, hosts files
    included, and a second plan is empty."""
    applied = netplan("apply", DEMO, "-p", "lab", "--yes", check=True)
    yield applied.stdout
    netplan("destroy", DEMO, "-p", "lab", "--yes", check=True)
    assert netns_names(class_lab, "hostA") == netns_names(class_lab, "hostB") == set()
    assert "vx-overlay" not in links(class_lab, "hostA")
    for host, netns in (("hostA", "web"), ("hostB", "db")):
        assert in_host(class_lab, host, "test", "-e", f"/etc/netns/{netns}").returncode == 1
    assert netplan("plan", DEMO, "-p", "lab", "--destroy", "--detailed-exitcode").returncode == 0


class TestDemo:
    def test_the_check_after_the_apply_finds_its_desired_state_cached(self, demo: str) -> None:
        """Both hosts observed over SSH give the state the apply keyed its entry by."""
        assert_ready_for_the_check(DEMO, "lab")

    def test_the_overlay_demo_pings_across_lab_hosts(self, class_lab: Lab, demo: str) -> None:
        lab = class_lab
        assert "hostA  applied" in demo and "hostB  applied" in demo
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

    def test_containers_on_other_hosts_resolve_across_the_overlay(
        self, class_lab: Lab, demo: str
    ) -> None:
        """Each host's container resolves the other host's container (addresses are
        allocated centrally), by the hosts file the agent wrote on its own host."""
        lab = class_lab
        assert resolves(lab, "hostA", "web", "db") == ["10.88.0.2", "db"]
        assert resolves(lab, "hostB", "db", "web") == ["10.88.0.1", "web"]
        by_name = ("ip", "netns", "exec", "web", "ping", "-c", "1", "-W", "1", "db")
        assert in_host(lab, "hostA", *by_name).returncode == 0
        assert in_host(lab, "hostA", "test", "-e", "/etc/netns/db").returncode == 1  # on B
        assert in_sync()

    def test_overlay_checks_run_on_the_hosts_they_start_from(
        self, class_lab: Lab, demo: str
    ) -> None:
        """web on hostA reaches db on hostB through the tunnel; with the tunnel cut on
        hostB, verify exits 1 and names both checks; `apply --verify` repairs and passes.
        `graph --observed` marks the cut."""
        lab = class_lab
        done = netplan("verify", DEMO, "-p", "lab", "--format", "json")
        assert done.returncode == 0, done.stdout + done.stderr
        checks = json.loads(done.stdout)["checks"]
        assert [(c["host"], c["netns"], c["destination"], c["got"]) for c in checks] == [
            ("hostA", "web", "10.88.0.2", "reachable"), ("hostB", "db", "10.88.0.1", "reachable")]
        assert ping(lab, "hostA", "web", "10.88.0.2")  # the independent witness agrees

        assert in_host(lab, "hostB", "ip", "link", "set", "vx-overlay", "down").returncode == 0
        cut = netplan("verify", DEMO, "-p", "lab")
        assert cut.returncode == 1
        assert ("verify: 2 of 2 checks failed: 'web reaches db across the overlay', "
                "'db reaches web across the overlay'") in cut.stdout
        assert not ping(lab, "hostA", "web", "10.88.0.2")
        drawn = netplan("graph", DEMO, "--observed", "-p", "lab", "--format", "dot", check=True)
        assert ('"net:hostB:overlay" [label="overlay\\noverlay 10.88.0.0/24\\n(drifted)"'
                in drawn.stdout)

        repaired = netplan("apply", DEMO, "-p", "lab", "--yes", "--verify")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        assert "verify: all 2 checks passed" in repaired.stdout
        assert in_sync()


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
