"""A network's bridge renamed (`bridge:` edited): its ports move to the new bridge before
the old one goes, so a failed apply is rolled back whole. Deleted first, the old bridge
would take its ports off by itself, and the rollback (last step first) would try to put
them back on it before making it again."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.hostview import Run, bridge_topology, inet, ip_json, ping, sh
from tests.e2e.test_transactions import PROMPT, Interactive, planned_veths


def ports(bridge: str) -> list[str]:
    """The names of the links whose master is `bridge`, as `ip -j link` reports them."""
    return sorted(link["ifname"] for link in ip_json("link", "show", "master", bridge))


def renamed(path: Path, containers: list[str]) -> Path:
    bridge_topology(path, "lab", containers)
    path.write_text(path.read_text().replace("br-tx", "br-tx2"))
    return path


def test_a_renamed_bridge_takes_the_ports_and_the_gateway(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", ["c1", "c2"])
    run("apply", path, "--yes", check=True)
    peers = ports("br-tx")
    run("apply", renamed(path, ["c1", "c2"]), "--yes", check=True)
    assert ports("br-tx2") == peers
    assert not [link for link in ip_json("link", "show") if link["ifname"] == "br-tx"]
    assert inet("", "br-tx2") == ["10.77.0.1/16"]
    assert ping("c1", "10.77.0.1") and ping("c1", inet("c2", "eth0")[0].split("/")[0])
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def test_a_failed_rename_puts_the_ports_back_on_the_old_bridge(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", ["c1", "c2"])
    run("apply", path, "--yes", check=True)
    peers = ports("br-tx")
    peer = planned_veths(renamed(path, ["c1", "c2", "c3"]))[-1].peer  # c3's, made last
    apply = Interactive("apply", path)
    apply.wait_for(PROMPT)
    sh(f"ip link add {peer} type bridge")  # someone else takes the name c3's veth needs
    apply.answer("y")
    result = apply.finish()
    sh(f"ip link del {peer}")
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert errors[0] == "error: host local: cannot create veth c3/eth0: already exists"
    assert errors[1].endswith(": the host is as it was before the apply"), result.stderr
    assert len(errors) == 2, result.stderr  # no "could not undo"
    assert ports("br-tx") == peers
    assert inet("", "br-tx") == ["10.77.0.1/16"]
    assert ping("c1", "10.77.0.1")
    assert run("plan", bridge_topology(path, "lab", ["c1", "c2"]),
               "--detailed-exitcode").returncode == 0  # fmt: skip
