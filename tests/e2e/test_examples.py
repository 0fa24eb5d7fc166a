"""Every example in topologies/ applied, checked with iproute2 and ping, its own
reachability checks run by `netplan verify` (and each ICMP one witnessed by ping),
re-applied, destroyed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cache_view import assert_ready_for_the_check
from tests.e2e.hostview import (
    TOPOLOGIES,
    Run,
    assert_unchanged,
    ip_json,
    netns_names,
    ping,
    snapshot,
)


@dataclass(frozen=True)
class Expected:
    addresses: dict[tuple[str, str], str]
    """(netns or "" for the host, device) → address/prefix."""
    reachable: list[tuple[str, str]] = field(default_factory=list)
    no_netns: list[str] = field(default_factory=list)
    mtu: dict[tuple[str, str], int] = field(default_factory=dict)
    mac: dict[tuple[str, str], str] = field(default_factory=dict)
    checks: bool = True
    """The example has a `checks:` section for `netplan verify`."""


EXAMPLES = {
    "default-bridge": Expected(
        addresses={
            ("", "docker0"): "172.17.0.1/16",
            ("alpine1", "eth0"): "172.17.0.2/16",
            ("alpine2", "eth0"): "172.17.0.3/16",
        },
        reachable=[("alpine1", "172.17.0.3"), ("alpine2", "172.17.0.2"), ("alpine1", "172.17.0.1")],
        mac={("alpine1", "eth0"): "02:42:ac:11:00:02"},
    ),
    "user-bridges": Expected(
        addresses={
            ("", "br-alpine-net"): "172.21.240.0/16",
            ("alpine1", "eth0"): "172.21.240.1/16",
            ("alpine2", "eth0"): "172.21.240.2/16",
            ("alpine4", "eth0"): "172.21.240.3/16",
            ("", "br-backend"): "172.22.0.128/24",
            ("alpine3", "eth0"): "172.22.0.129/24",
            ("alpine4", "eth1"): "172.22.0.10/24",
        },
        reachable=[
            ("alpine1", "172.21.240.2"),
            ("alpine4", "172.21.240.1"),
            ("alpine3", "172.22.0.10"),
            ("alpine4", "172.22.0.129"),
        ],
        mtu={("alpine3", "eth0"): 1400, ("alpine4", "eth1"): 1400, ("alpine4", "eth0"): 1500},
        mac={("alpine4", "eth1"): "02:00:00:00:22:10"},
    ),
    "network-modes": Expected(
        addresses={("", "br-app"): "10.77.0.1/24", ("web", "eth0"): "10.77.0.2/24"},
        reachable=[("web", "10.77.0.1")],
        no_netns=["on-host", "sidecar"],
    ),
    # Firewall behaviour (published ports, isolation, internal): tests/e2e/test_firewall.py
    # macvlan.yaml needs its parent eth0 and a LAN behind it: tests/e2e/test_macvlan.py
    "published-web": Expected(
        addresses={("", "br-frontend"): "172.28.0.1/24", ("web", "eth0"): "172.28.0.2/24",
                   ("", "br-clients"): "172.29.0.1/24", ("client", "eth0"): "172.29.0.2/24"},
        reachable=[("client", "172.29.0.1"), ("web", "172.28.0.1")],
        checks=False,  # nothing to verify: tests/e2e/test_verify.py
    ),
    "isolated-bridges": Expected(
        addresses={("blue1", "eth0"): "10.81.0.2/24", ("blue2", "eth0"): "10.81.0.3/24",
                   ("green1", "eth0"): "10.82.0.2/24", ("quiet1", "eth0"): "10.83.0.2/24"},
        reachable=[("blue1", "10.81.0.3"), ("quiet1", "10.83.0.1")],
    ),
    "internal-network": Expected(
        addresses={("db", "eth0"): "10.92.0.2/24", ("app", "eth0"): "10.92.0.3/24",
                   ("app", "eth1"): "10.91.0.2/24"},
        reachable=[("app", "10.92.0.2"), ("app", "10.91.0.1")],
    ),
}


def link(netns: str, dev: str) -> dict[str, object]:
    args = ["-n", netns] if netns else []
    found: list[dict[str, object]] = ip_json(*args, "address", "show", "dev", dev)
    assert len(found) == 1, f"{netns}/{dev} not found"
    return found[0]


def ipv4(entry: dict[str, object]) -> list[str]:
    infos = entry["addr_info"]
    assert isinstance(infos, list)
    return [f"{a['local']}/{a['prefixlen']}" for a in infos if a["family"] == "inet"]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_round_trip(name: str, run: Run, clean_host: None) -> None:
    path = TOPOLOGIES / f"{name}.yaml"
    expected = EXAMPLES[name]
    before = snapshot()

    assert run("validate", path).returncode == 0
    applied = run("apply", path, "--yes", check=True)
    assert "verified" in applied.stdout
    assert_ready_for_the_check(path)

    for (netns, dev), cidr in expected.addresses.items():
        assert ipv4(link(netns, dev)) == [cidr]
    for (netns, dev), mtu in expected.mtu.items():
        assert link(netns, dev)["mtu"] == mtu
    for (netns, dev), mac in expected.mac.items():
        assert link(netns, dev)["address"] == mac
    for source, target in expected.reachable:
        assert ping(source, target), f"{source} cannot reach {target}"
    for container in expected.no_netns:
        assert container not in netns_names()
    for netns in {n for n, _ in expected.addresses if n}:
        lo = link(netns, "lo")
        assert "UP" in lo["flags"]  # type: ignore[operator]
    if expected.checks:
        assert_checks_pass(run, path)

    again = run("apply", path, "--yes", check=True)
    assert "Nothing to apply" in again.stdout
    assert run("check", path).returncode == 0
    assert run("plan", path, "--detailed-exitcode").returncode == 0

    run("destroy", path, "--yes", check=True)
    assert run("plan", path, "--destroy", "--detailed-exitcode").returncode == 0
    assert_unchanged(before, snapshot())


def assert_checks_pass(run: Run, path: Path) -> None:
    """`netplan verify` passes every check of the example, and ping, an independent
    witness, agrees with each ICMP check."""
    done = run("verify", path, "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["passed"] and report["counts"]["failed"] == 0
    for check in report["checks"]:
        if check["protocol"] == "icmp" and check["netns"]:
            seen = ping(check["netns"], check["destination"])
            assert seen == (check["expect"] == "reachable"), check
