"""MTU drift as a user makes it with `ip`, on user-bridges.yaml (backend at `mtu: 1400`,
alpine-net at Docker's default 1500): check names it, apply repairs it, and `ip -j -d
link` shows every bridge and veth end at its network's MTU again."""

from __future__ import annotations

from pathlib import Path

import pytest

from netplan.topology.names import veth_name
from tests.e2e.hostview import TOPOLOGIES, Run, assert_drift_repaired, ip_json

MTUS = {"br-backend": 1400, "br-alpine-net": 1500}
"""Each bridge's MTU: its ports' and their containers' ends' too."""
CONTAINERS = {"alpine1": ["alpine-net"], "alpine2": ["alpine-net"], "alpine3": ["backend"],
              "alpine4": ["alpine-net", "backend"]}
HOST_END = veth_name("user-bridges", "alpine3", "backend")

DRIFTS = [
    (f"ip link set {HOST_END} mtu 1300",
     r"link:alpine3/eth0\.peer_mtu: desired 1400, observed 1300"),
    ("ip -n alpine3 link set eth0 mtu 1300",
     r"link:alpine3/eth0\.mtu: desired 1400, observed 1300"),
    ("ip link set br-backend mtu 1300", r"link:/br-backend\.mtu: desired 1400, observed 1300"),
    ("ip link set br-alpine-net mtu 1400",
     r"link:/br-alpine-net\.mtu: desired 1500, observed 1400"),
]


def mtus_seen() -> dict[str, int]:
    """Every bridge, host end and container end with its MTU, as `ip -j -d link` says
    (a host end under its bridge's name and the container's)."""
    seen = {}
    for entry in ip_json("-d", "link", "show"):
        if entry["ifname"] in MTUS:
            seen[entry["ifname"]] = entry["mtu"]
        elif entry.get("master") in MTUS:
            seen[f"{entry['master']} port {entry['ifname']}"] = entry["mtu"]
    for container, networks in CONTAINERS.items():
        for index, network in enumerate(networks):
            [end] = ip_json("-n", container, "-d", "link", "show", "dev", f"eth{index}")
            seen[f"{container}/eth{index} ({network})"] = end["mtu"]
    return seen


def mtus_wanted() -> dict[str, int]:
    wanted = dict(MTUS)
    for container, networks in CONTAINERS.items():
        for index, network in enumerate(networks):
            bridge = "br-backend" if network == "backend" else "br-alpine-net"
            wanted[f"{bridge} port {veth_name('user-bridges', container, network)}"] = MTUS[bridge]
            wanted[f"{container}/eth{index} ({network})"] = MTUS[bridge]
    return wanted


class TestMtuDrift:
    TOPOLOGY = TOPOLOGIES / "user-bridges.yaml"

    @pytest.mark.parametrize(("change", "reported"), DRIFTS, ids=[d[0][:40] for d in DRIFTS])
    def test_mtu_drift_is_detected_named_and_repaired(
        self, run: Run, applied: Path, change: str, reported: str
    ) -> None:
        assert mtus_seen() == mtus_wanted()
        assert_drift_repaired(run, applied, change, reported)
        assert mtus_seen() == mtus_wanted()
