"""An overlay without `subnet:` on two lab hosts, over SSH: it takes the first of Docker's
global-scope pools (10.0.0.0/8 in /24s) that is free on every host it spans, so a prefix
one host holds of its own is skipped on both, and it keeps that subnet when the other
host's prefix goes away. Checked with `ip -j` on the hosts and ping across the tunnel."""

from __future__ import annotations

from pathlib import Path

from providers.lab import Lab
from tests.e2e.hostview import netplan
from tests.multihost.labview import addresses, in_host, ping

POOLED = """\
name: pooled
hosts: [hostA, hostB]
networks:
  overlay: {driver: overlay}
containers:
  web: {host: hostA, networks: [overlay]}
  db: {host: hostB, networks: [overlay]}
"""


def test_an_overlay_takes_a_pool_free_on_both_hosts_and_keeps_it(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "pooled.yaml"
    path.write_text(POOLED)
    own = ("10.0.0.254/24", "dev", "ul0")  # hostB's own address, not the topology's
    assert in_host(lab, "hostB", "ip", "address", "add", *own).returncode == 0
    netplan("apply", path, "-p", "lab", "--yes", check=True)
    assert addresses(lab, "hostA", "web", "eth0") == {"10.0.1.1/24"}
    assert addresses(lab, "hostB", "db", "eth0") == {"10.0.1.2/24"}
    assert ping(lab, "hostA", "web", "10.0.1.2") and ping(lab, "hostB", "db", "10.0.1.1")

    assert in_host(lab, "hostB", "ip", "address", "del", *own).returncode == 0
    assert netplan("plan", path, "-p", "lab", "--detailed-exitcode").returncode == 0
    netplan("destroy", path, "-p", "lab", "--yes", check=True)
