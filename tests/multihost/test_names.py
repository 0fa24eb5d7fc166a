"""Names across an overlay on two lab hosts: each host's container resolves the other
host's container (addresses are allocated centrally), by the hosts file the agent wrote
on its own host, and destroy removes it there."""

from __future__ import annotations

from pathlib import Path

from providers.lab import Lab
from tests.e2e.hostview import netplan
from tests.multihost.labview import in_host

DEMO = Path(__file__).parents[2] / "topologies" / "overlay.yaml"


def resolves(lab: Lab, host: str, netns: str, name: str) -> list[str]:
    found = in_host(lab, host, "ip", "netns", "exec", netns, "getent", "hosts", name)
    assert found.returncode in (0, 2), found.stderr
    return found.stdout.split()


def test_containers_on_other_hosts_resolve_across_the_overlay(lab: Lab) -> None:
    netplan("apply", DEMO, "-p", "lab", "--yes", check=True)
    assert resolves(lab, "hostA", "web", "db") == ["10.88.0.2", "db"]
    assert resolves(lab, "hostB", "db", "web") == ["10.88.0.1", "web"]
    ping = ("ip", "netns", "exec", "web", "ping", "-c", "1", "-W", "1", "db")
    assert in_host(lab, "hostA", *ping).returncode == 0
    assert in_host(lab, "hostA", "test", "-e", "/etc/netns/db").returncode == 1  # db's is on B
    assert netplan("plan", DEMO, "-p", "lab", "--detailed-exitcode").returncode == 0

    netplan("destroy", DEMO, "-p", "lab", "--yes", check=True)
    for host, netns in (("hostA", "web"), ("hostB", "db")):
        assert in_host(lab, host, "test", "-e", f"/etc/netns/{netns}").returncode == 1
