"""Never touch what is not ours; conflicts change nothing; drift is found and repaired."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.hostview import (
    TOPOLOGIES,
    Run,
    assert_drift_repaired,
    assert_unchanged,
    ip_json,
    settled_snapshot,
    sh,
    snapshot,
)

DEFAULT_BRIDGE = TOPOLOGIES / "default-bridge.yaml"
USER_BRIDGES = TOPOLOGIES / "user-bridges.yaml"


@pytest.fixture
def foreign_objects() -> Iterator[None]:
    """Objects made by someone else, some with names that look like ours."""
    sh(
        "ip link add br-foreign type bridge forward_delay 0",
        "ip addr add 192.0.2.1/24 dev br-foreign",
        "ip link set br-foreign up",
        "ip netns add foreign-ns",
        "ip link add vethforeign0 type veth peer name eth0 netns foreign-ns",
        "ip link set vethforeign0 master br-foreign up",
        "ip -n foreign-ns link set eth0 up",
        "ip route add 198.51.100.0/24 via 192.0.2.254",
        "ip link add br-alpine-nex type bridge",
    )
    if subprocess.run(["which", "nft"], capture_output=True).returncode == 0:
        sh("nft add table inet netplan_lookalike", "nft add table ip foreign")
    settled_snapshot()
    yield
    sh("ip link del br-foreign", "ip link del br-alpine-nex", "ip netns del foreign-ns")
    subprocess.run(
        "nft delete table inet netplan_lookalike; nft delete table ip foreign",
        shell=True,
        capture_output=True,
    )


def test_foreign_objects_are_byte_identical_after_apply_and_destroy(
    run: Run, clean_host: None, foreign_objects: None
) -> None:
    before = snapshot()
    for path in (DEFAULT_BRIDGE, USER_BRIDGES):
        run("apply", path, "--yes", check=True)
        run("destroy", path, "--yes", check=True)
        assert_unchanged(before, snapshot())


@pytest.mark.parametrize(
    ("setup", "teardown", "named"),
    [
        ("ip link add docker0 type bridge", "ip link del docker0", "bridge docker0"),
        ("ip netns add alpine2", "ip netns del alpine2", "netns alpine2"),
    ],
    ids=["unowned-docker0", "unowned-namespace"],
)
def test_an_object_in_the_way_is_a_conflict_and_nothing_changes(
    run: Run, clean_host: None, setup: str, teardown: str, named: str, tmp_path: Path
) -> None:
    sh(setup)
    try:
        before = snapshot()
        result = run("apply", DEFAULT_BRIDGE, "--yes")
        assert result.returncode == 1
        assert named in result.stderr and "not managed by netplan" in result.stderr
        assert "hint:" in result.stderr and "Traceback" not in result.stderr
        saved = tmp_path / "plan.json"
        planned = run("plan", DEFAULT_BRIDGE, "--out", saved)
        assert planned.returncode == 1 and named in planned.stderr, planned.stderr
        assert not saved.exists()
        assert_unchanged(before, snapshot())
    finally:
        sh(teardown)


def test_another_topologys_namespace_is_a_conflict(
    run: Run, clean_host: None, tmp_path: Path
) -> None:
    run("apply", DEFAULT_BRIDGE, "--yes", check=True)
    other = tmp_path / "other.yaml"
    other.write_text(
        "name: other\nnetworks:\n  n:\n    subnet: 10.99.0.0/24\n"
        "containers:\n  alpine1:\n    networks: [n]\n"
    )
    before = settled_snapshot()
    result = run("apply", other, "--yes")
    assert result.returncode == 1
    owner = "netns alpine1 already exists and belongs to netplan topology 'default-bridge'"
    assert owner in result.stderr
    assert_unchanged(before, snapshot())


def test_a_subnet_the_host_already_routes_is_a_conflict(
    run: Run, clean_host: None, foreign_objects: None, tmp_path: Path
) -> None:
    """Another topology's subnet, and a subnet of a link netplan does not own: each is
    refused with both links named, and nothing changes (Docker: "Pool overlaps")."""
    run("apply", DEFAULT_BRIDGE, "--yes", check=True)
    same = tmp_path / "same.yaml"
    same.write_text("name: same\nnetworks:\n  n: {subnet: 172.17.0.0/24}\n"
                    "containers:\n  c1: {networks: [n]}\n")  # fmt: skip
    lan = tmp_path / "lan.yaml"
    lan.write_text("name: lan\nnetworks:\n  n: {subnet: 192.0.2.128/25}\n")
    before = settled_snapshot()
    for path, overlapped in ((same, "overlaps 172.17.0.1/16 on docker0, which belongs to "
                              "netplan topology 'default-bridge'"),
                             (lan, "overlaps 192.0.2.1/24 on br-foreign, which is not "
                              "managed by netplan")):  # fmt: skip
        result = run("apply", path, "--yes")
        assert result.returncode == 1 and overlapped in result.stderr, result.stderr
        assert "nothing was changed (hint: pick a subnet the host does not route" in result.stderr
        assert run("check", path).returncode == 2
        assert_unchanged(before, snapshot())
    run("destroy", DEFAULT_BRIDGE, "--yes", check=True)


DRIFTS = [
    ("ip -n alpine2 link del eth0", "link:alpine2/eth0: desired present, observed missing"),
    ("ip -n alpine1 link set eth0 mtu 1400", "link:alpine1/eth0.mtu: desired 1500, observed 1400"),
    (
        "ip -n alpine1 addr add 172.17.9.9/16 dev eth0",
        "addr:alpine1/eth0/172.17.9.9/16: desired absent, observed present",
    ),
    ("ip -n alpine1 route del default", "route:alpine1/default: desired present, observed missing"),
    ("ip link set docker0 down", "link:/docker0.up: desired True, observed False"),
    ("ip link set docker0 mtu 1400", "link:/docker0.mtu: desired 1500, observed 1400"),
    ("ip -n alpine1 link set lo down", "netns:alpine1.lo_up: desired True, observed False"),
    (
        "ip link set $(ip -j link show master docker0 | python3 -c "
        "'import json,sys; print(json.load(sys.stdin)[0][\"ifname\"])') nomaster",
        "/eth0.bridge: desired docker0, observed none\n",
    ),
    ("ip addr flush dev docker0", "addr:/docker0/172.17.0.1/16: desired present, observed missing"),
    ("ip netns del alpine2", "netns:alpine2: desired present, observed missing"),
]


class TestDrift:
    """Each change on default-bridge.yaml, applied once for all of them (class_topology):
    each is found, named and repaired, and leaves the topology in sync for the next."""

    TOPOLOGY = DEFAULT_BRIDGE

    @pytest.mark.parametrize(("change", "reported"), DRIFTS, ids=[d[0][:40] for d in DRIFTS])
    def test_drift_is_detected_named_and_repaired(
        self, run: Run, applied: Path, change: str, reported: str
    ) -> None:
        assert_drift_repaired(run, applied, change, re.escape(reported))
        assert len(ip_json("-n", "alpine1", "route", "show", "default")) == 1
