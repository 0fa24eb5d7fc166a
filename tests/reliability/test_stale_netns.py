"""What an agent killed while creating a namespace leaves: the file /run/netns/NAME holding
the topology's marker and no namespace (nsutil.create_named writes the marker before it
mounts the namespace). The next apply makes the namespace on it, and a destroy run right
after the kill removes it; a file holding no marker or another one (someone else's) stays
a conflict, and destroy leaves it. Found by the crash harness (trial 25, seed 6)."""

from __future__ import annotations

from pathlib import Path

from tests.reliability import census, run
from tests.reliability.place import LOCAL, Place
from tests.reliability.workload import local_topology, write


def test_a_half_made_namespace_is_made_again(tmp_path: Path,
                                             local: dict[str, Place]) -> None:
    """The file a killed apply left (c01) is taken over by the next apply. Then an apply
    of a larger file is killed while making c03's namespace, and a destroy of that file
    follows: everything goes, that half-made file too."""
    topology = write(tmp_path / "stale.yaml", local_topology("stale", containers=3))
    stale = Path("/run/netns/c01")
    stale.write_text("netplan:stale")
    stale.chmod(0)
    assert not run.converges(topology, local)
    assert "c01" in {n["name"] for n in LOCAL.json("ip", "-j", "netns", "list")}
    larger = write(tmp_path / "larger.yaml", local_topology("stale", containers=4))
    half = Path("/run/netns/c03")
    half.write_text("netplan:stale")
    half.chmod(0)
    # larger.yaml names the topology stale.yaml applied, and stale.yaml is still there
    assert run.cli("destroy", larger, "--yes", "--replace", places=local).returncode == 0
    assert not census.owned(LOCAL, "stale")
    assert not stale.exists() and not half.exists()
    planned = run.cli("plan", larger, "--destroy", "--detailed-exitcode", places=local)
    assert planned.returncode == 0, planned.stdout


def test_a_file_without_the_marker_stays_a_conflict(tmp_path: Path,
                                                    local: dict[str, Place]) -> None:
    topology = write(tmp_path / "stale.yaml", local_topology("stale", containers=3))
    stale = Path("/run/netns/c01")
    stale.write_text("")
    applied = run.cli("apply", topology, "--yes", places=local)
    assert applied.returncode == 1
    assert "netns c01 already exists and is not a network namespace" in applied.stderr
    assert not census.owned(LOCAL, "stale")
    stale.unlink()


def test_destroy_right_after_a_killed_apply_removes_the_half_made_namespace(
    tmp_path: Path, local: dict[str, Place],
) -> None:  # fmt: skip
    """The first apply was killed while making its first namespace (the file holds the
    marker, no namespace is mounted on it), so destroy has no step: it still removes the
    file. Files in /run/netns that are not provably the topology's (empty, another
    topology's marker, a longer one) stay, byte for byte."""
    topology = write(tmp_path / "stale.yaml", local_topology("stale", containers=3))
    half = Path("/run/netns/c02")
    half.write_text("netplan:stale")
    half.chmod(0)
    others = {Path("/run/netns/x-empty"): "", Path("/run/netns/x-other"): "netplan:other",
              Path("/run/netns/x-longer"): "netplan:stale2"}  # fmt: skip
    for path, text in others.items():
        path.write_text(text)
    try:
        destroyed = run.cli("destroy", topology, "--yes", places=local)
        assert destroyed.returncode == 0, destroyed.stderr
        assert not half.exists()
        names = {n["name"] for n in LOCAL.json("ip", "-j", "netns", "list")}
        assert names & {"web", "c01", "c02"} == set()
        assert {p: p.read_text() for p in others} == others
        assert not census.owned(LOCAL, "stale")
        planned = run.cli("plan", topology, "--destroy", "--detailed-exitcode", places=local)
        assert planned.returncode == 0, planned.stdout
    finally:
        for path in others:
            path.unlink()
