"""What an agent killed while creating a namespace leaves: the file /run/netns/NAME holding
the topology's marker and no namespace (nsutil.create_named writes the marker before it
mounts the namespace). The next apply makes the namespace on it; a file holding no marker
(someone else's) stays a conflict. Found by the crash harness (trial 25, seed 6)."""

from __future__ import annotations

from pathlib import Path

from tests.reliability import census, run
from tests.reliability.place import LOCAL, Place
from tests.reliability.workload import local_topology, write


def test_a_half_made_namespace_is_made_again(tmp_path: Path,
                                             local: dict[str, Place]) -> None:
    topology = write(tmp_path / "stale.yaml", local_topology("stale", containers=3))
    stale = Path("/run/netns/c01")
    stale.write_text("netplan:stale")
    stale.chmod(0)
    assert not run.converges(topology, local)
    assert "c01" in {n["name"] for n in LOCAL.json("ip", "-j", "netns", "list")}
    assert run.cli("destroy", topology, "--yes", places=local).returncode == 0
    assert not census.owned(LOCAL, "stale")
    assert not stale.exists()


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
