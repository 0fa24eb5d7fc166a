"""The overlay example's reachability checks on two lab hosts over SSH: web on hostA
reaches db on hostB through the tunnel; with the tunnel cut on hostB, verify exits 1 and
names both checks; `apply --verify` repairs and passes. `graph --observed` marks the cut."""

from __future__ import annotations

import json
from pathlib import Path

from providers.lab import Lab
from tests.e2e.hostview import netplan
from tests.multihost.labview import in_host, ping

OVERLAY = Path(__file__).parents[2] / "topologies" / "overlay.yaml"


def test_overlay_checks_run_on_the_hosts_they_start_from(lab: Lab) -> None:
    netplan("apply", OVERLAY, "-p", "lab", "--yes", check=True)
    done = netplan("verify", OVERLAY, "-p", "lab", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    checks = json.loads(done.stdout)["checks"]
    assert [(c["host"], c["netns"], c["destination"], c["got"]) for c in checks] == [
        ("hostA", "web", "10.88.0.2", "reachable"), ("hostB", "db", "10.88.0.1", "reachable")]
    assert ping(lab, "hostA", "web", "10.88.0.2")  # the independent witness agrees

    assert in_host(lab, "hostB", "ip", "link", "set", "vx-overlay", "down").returncode == 0
    cut = netplan("verify", OVERLAY, "-p", "lab")
    assert cut.returncode == 1
    assert ("verify: 2 of 2 checks failed: 'web reaches db across the overlay', "
            "'db reaches web across the overlay'") in cut.stdout
    assert not ping(lab, "hostA", "web", "10.88.0.2")
    drawn = netplan("graph", OVERLAY, "--observed", "-p", "lab", "--format", "dot", check=True)
    assert '"net:hostB:overlay" [label="overlay\\noverlay 10.88.0.0/24\\n(drifted)"' in drawn.stdout

    repaired = netplan("apply", OVERLAY, "-p", "lab", "--yes", "--verify")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "verify: all 2 checks passed" in repaired.stdout
    assert netplan("plan", OVERLAY, "-p", "lab", "--detailed-exitcode").returncode == 0
