"""Commands that observe the host while the topology file loads (cli.run_plan), through
the CLI on the real kernel: apply leaves the file's outline in the compile cache, with
the desired state it applied, which the check after it finds; an edited file is observed
with the outline it had, and an edit that changes what the host's observation must
report on (a volume's paths) is observed again with its own; an invalid edit is refused
with nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from netplan.compile_cache import bytes_digest
from netplan.outline import HostOutline, Outline
from tests.cache_view import assert_ready_for_the_check, cached_entry
from tests.e2e.hostview import assert_unchanged, ip_json, netns_names, netplan, sh, snapshot

NAME = "guess"
SUBNET = IPv4Network("10.79.0.0/24")
TOPOLOGY = f"""\
name: {NAME}
networks:
  front:
    subnet: {SUBNET}
containers:
  web:
    networks: [front]
"""
CACHE = Path("/run/netplan/cache")
"""The compile cache of root, inside the sandbox's own /run/netplan."""
RECORDS = Path("/run/netplan/topologies") / NAME


def with_worker(root: Path) -> str:
    """TOPOLOGY and a container whose process has a volume under `root`: the host's
    observation must now report on both of the volume's paths."""
    return TOPOLOGY + f"""\
  worker:
    networks: [front]
    command: [sleep, "600"]
    volumes: ["{root / 'data'}:{root / 'mnt'}"]
"""


@pytest.fixture
def topology(tmp_path: Path, clean_host: None) -> Iterator[Path]:
    """The topology file, its original text applied; destroyed after the test (its
    worker too, if the test made one), leaving neither a record nor a cache entry."""
    path = tmp_path / f"{NAME}.yaml"
    path.write_text(TOPOLOGY)
    netplan("apply", path, "--yes", check=True)
    yield path
    path.write_text(with_worker(tmp_path))  # names everything a test may have made
    netplan("destroy", path, "--yes", check=True)
    assert netplan("plan", path, "--destroy", "--detailed-exitcode").returncode == 0
    assert not (RECORDS / "processes").exists()
    assert not list(CACHE.glob(f"*.{NAME}.entry"))



def assert_in_sync(path: Path) -> None:
    """`check` exits 0, and a second plan is empty."""
    check = netplan("check", path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("in sync")
    assert netplan("plan", path, "--detailed-exitcode").returncode == 0


def addresses(netns: str) -> list[IPv4Address]:
    """The IPv4 addresses of the container's eth0, as iproute2 sees them."""
    return [IPv4Address(a["local"]) for link in ip_json("-n", netns, "address", "show", "eth0")
            for a in link["addr_info"] if a["family"] == "inet"]  # fmt: skip


def test_the_check_after_an_apply_finds_the_desired_state_it_applied(topology: Path) -> None:
    entry = cached_entry(topology)
    assert (entry.bytes_digest, entry.outline) == (bytes_digest(topology),
                                                   Outline(NAME, {"local": HostOutline()}))
    assert entry.observed is not None
    assert_ready_for_the_check(topology)
    assert_in_sync(topology)
    assert cached_entry(topology) == entry  # the check compiled nothing, wrote nothing

    # An apply that changed nothing keeps the entry; drift behind netplan's back is
    # still found by the check after it (which compiles: the observation differs).
    netplan("apply", topology, "--yes", check=True)
    assert cached_entry(topology) == entry
    sh("ip -n web link set eth0 mtu 1300")
    drift = netplan("check", topology)
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "host local: drift: link:web/eth0.mtu: desired 1500, observed 1300" in drift.stdout
    assert cached_entry(topology).observed not in (None, entry.observed)
    netplan("apply", topology, "--yes", check=True)
    assert cached_entry(topology).observed == entry.observed  # the host as it was applied
    assert_in_sync(topology)


def test_a_check_of_an_edit_is_observed_with_the_edits_outline(
    topology: Path, tmp_path: Path
) -> None:
    """The first observation is made with the outline before the edit, which asks for
    no paths; only an observation with the edited file's finds the volume's missing."""
    guess = cached_entry(topology).outline
    topology.write_text(with_worker(tmp_path))
    missing = netplan("check", topology)
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert f"host 'local' has no {tmp_path / 'data'} " in missing.stderr
    assert f"host 'local' has no {tmp_path / 'mnt'} " in missing.stderr
    assert cached_entry(topology).outline == guess  # nothing compiled, nothing written

    (tmp_path / "data").mkdir()
    (tmp_path / "mnt").mkdir()
    pending = netplan("check", topology)
    assert pending.returncode == 2, pending.stdout + pending.stderr
    for what in ("netns:worker", "link:worker/eth0", "process:worker"):
        assert f"host local: pending: {what}: desired present, observed missing" in pending.stdout
    paths = (str(tmp_path / "data"), str(tmp_path / "mnt"))  # sorted
    assert cached_entry(topology).outline == Outline(NAME, {"local": HostOutline(paths=paths)})
    assert "worker" not in netns_names()

    netplan("apply", topology, "--yes", check=True)
    assert_in_sync(topology)
    assert {"web", "worker"} <= netns_names()
    assert [a in SUBNET for a in addresses("worker")] == [True]


def test_an_apply_of_an_edit_is_observed_with_the_edits_outline(
    topology: Path, tmp_path: Path
) -> None:
    """apply locks and observes with the outline it had, then again with the edited
    file's: a volume path the host lacks is found before anything changes."""
    topology.write_text(with_worker(tmp_path))
    before = snapshot()
    refused = netplan("apply", topology, "--yes")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"host 'local' has no {tmp_path / 'data'} " in refused.stderr
    assert_unchanged(before, snapshot())
    assert "worker" not in netns_names()

    (tmp_path / "data").mkdir()
    (tmp_path / "mnt").mkdir()
    applied = netplan("apply", topology, "--yes", check=True)
    assert "+ netns worker" in applied.stdout and "+ process worker" in applied.stdout
    assert_in_sync(topology)
    assert [a in SUBNET for a in addresses("worker")] == [True]


def test_an_invalid_edit_is_refused_and_nothing_changes(topology: Path) -> None:
    links = ip_json("-n", "web", "link", "show")
    before = snapshot()
    topology.write_text(TOPOLOGY + "bogus: 1\n")
    line = len(TOPOLOGY.splitlines()) + 1
    for command, *options in (("check",), ("apply", "--yes")):
        refused = netplan(command, topology, *options)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert refused.stdout == ""
        [error] = refused.stderr.splitlines()
        assert error.startswith(f"error: {topology}:{line}:1: bogus: unknown field 'bogus'")
    assert ip_json("-n", "web", "link", "show") == links
    assert_unchanged(before, snapshot())

    topology.write_text(TOPOLOGY)
    assert_in_sync(topology)
