"""One topology on two lab hosts over SSH: apply, idempotency, partial failure, host keys."""

from __future__ import annotations

import json
from pathlib import Path

from netplan import pipeline
from netplan.topology_file import TopologyFile
from providers.lab import Lab, up
from providers.lab_keys import ensure_key
from providers.ssh import SSHConnection
from tests.e2e.hostview import netns_names as machine_netns
from tests.e2e.hostview import netplan
from tests.multihost.labview import (
    addresses,
    in_host,
    links,
    netns_inode,
    netns_names,
    ping,
    write_topology,
)


def in_sync(topology: Path) -> bool:
    """The second plan is empty (exit 0 with --detailed-exitcode)."""
    return netplan("plan", topology, "-p", "lab", "--detailed-exitcode").returncode == 0


def destroyed(topology: Path, lab: Lab) -> bool:
    netplan("destroy", topology, "-p", "lab", "--yes", check=True)
    return not netns_names(lab, "hostA") and not netns_names(lab, "hostB")


def test_a_bridge_network_on_each_host(lab: Lab, tmp_path: Path) -> None:
    topology = write_topology(tmp_path / "t.yaml", "multi", {"hostA": 2, "hostB": 3})
    applied = netplan("apply", topology, "-p", "lab", "--yes", check=True)
    assert "hostA  applied" in applied.stdout and "hostB  applied" in applied.stdout
    assert netns_names(lab, "hostA") == {"hostA-c0", "hostA-c1"}
    assert netns_names(lab, "hostB") == {"hostB-c0", "hostB-c1", "hostB-c2"}
    for host in ("hostA", "hostB"):
        bridge = links(lab, host)["br-lab"]
        assert bridge["linkinfo"]["info_kind"] == "bridge"
        assert addresses(lab, host, f"{host}-c1", "eth0") == {"10.77.0.3/16"}
        assert ping(lab, host, f"{host}-c1", "10.77.0.2")
    assert not machine_netns() & (netns_names(lab, "hostA") | netns_names(lab, "hostB"))
    assert in_sync(topology)
    assert destroyed(topology, lab)


def test_the_same_namespace_name_on_two_hosts_does_not_collide(lab: Lab, tmp_path: Path) -> None:
    """Two topologies, each with a container `web`, one on each host: two namespaces."""
    left = tmp_path / "left.yaml"
    right = tmp_path / "right.yaml"
    for path, host in ((left, "hostA"), (right, "hostB")):
        path.write_text(
            f"name: {path.stem}\nhosts: {{hostA: {{}}, hostB: {{}}}}\n"
            f"networks: {{front: {{host: {host}, subnet: 10.88.0.0/24}}}}\n"
            f"containers: {{web: {{host: {host}, networks: [front]}}}}\n"
        )
        netplan("apply", path, "-p", "lab", "--yes", check=True)
    assert netns_names(lab, "hostA") == netns_names(lab, "hostB") == {"web"}
    assert netns_inode(lab, "hostA", "web") != netns_inode(lab, "hostB", "web")
    assert ping(lab, "hostA", "web", "10.88.0.1") and ping(lab, "hostB", "web", "10.88.0.1")
    assert "web" not in machine_netns()
    assert in_sync(left) and in_sync(right)
    netplan("destroy", left, "-p", "lab", "--yes", check=True)
    assert destroyed(right, lab)


def test_a_host_that_is_down_does_not_stop_the_others(
    lab: Lab, lab_dir: Path, tmp_path: Path
) -> None:
    topology = write_topology(tmp_path / "t.yaml", "multi", {"hostA": 2, "hostB": 2})
    lab.hosts["hostB"].process.stop()
    failed = netplan("apply", topology, "-p", "lab", "--yes")
    assert failed.returncode == 1
    assert "hostA  applied" in failed.stdout
    assert "hostB  failed at connect" in failed.stdout
    assert "error: host hostB: the lab host is not running (hint: netplan lab up)" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert netns_names(lab, "hostA") == {"hostA-c0", "hostA-c1"}
    restarted = up(["hostA", "hostB"], lab_dir)
    converged = netplan("apply", topology, "-p", "lab", "--yes", check=True)
    assert "hostA  in sync" in converged.stdout and "hostB  applied" in converged.stdout
    assert netns_names(restarted, "hostB") == {"hostB-c0", "hostB-c1"}
    assert in_sync(topology)
    assert destroyed(topology, restarted)


def test_a_host_that_fails_while_applying_does_not_stop_the_others(
    lab: Lab, tmp_path: Path
) -> None:
    """hostB cannot create namespaces (its /run/netns is read-only): hostA is applied."""
    topology = write_topology(tmp_path / "t.yaml", "multi", {"hostA": 1, "hostB": 1})
    locked = in_host(lab, "hostB", "mount", "-t", "tmpfs", "-o", "ro", "locked", "/run/netns")
    assert locked.returncode == 0, locked.stderr
    failed = netplan("apply", topology, "-p", "lab", "--yes", "--json")
    assert failed.returncode == 1
    report = json.loads(failed.stdout)
    assert report["verified"] is False
    results = report["results"]
    assert (results["hostA"]["result"], results["hostA"]["errors"]) == ("applied", [])
    assert results["hostB"]["result"] == "failed at apply"
    error, rollback = results["hostB"]["errors"]
    assert error.startswith("host hostB: cannot create netns hostB-c0") and "read-only" in error
    assert rollback == ("host hostB: nothing had been changed yet: the host is as it was before "
                        "the apply")  # fmt: skip
    assert failed.stderr == f"error: {error}\nerror: {rollback}\n"
    assert in_host(lab, "hostB", "umount", "/run/netns").returncode == 0
    netplan("apply", topology, "-p", "lab", "--yes", check=True)
    assert in_sync(topology)
    assert destroyed(topology, lab)


def test_a_changed_host_key_is_refused(lab: Lab, tmp_path: Path) -> None:
    topology = write_topology(tmp_path / "t.yaml", "multi", {"hostA": 1, "hostB": 1})
    known_hosts = lab.known_hosts.read_text()
    impostor = ensure_key(tmp_path / "impostor")
    real_b = next(line for line in known_hosts.splitlines() if line.startswith("192.168.56.12 "))
    lab.known_hosts.write_text(known_hosts.replace(real_b, f"192.168.56.12 {impostor}"))
    refused = netplan("apply", topology, "-p", "lab", "--yes")
    assert refused.returncode == 1
    assert "error: host hostB: refused: the host key of 192.168.56.12 has CHANGED" in refused.stderr
    assert f"ssh-keygen -R 192.168.56.12 -f {lab.known_hosts}" in refused.stderr
    assert netns_names(lab, "hostB") == set()
    lab.known_hosts.write_text(known_hosts.replace(real_b + "\n", ""))
    unknown = netplan("plan", topology, "-p", "lab")
    assert unknown.returncode == 1
    assert "hostB: refused: the host key of 192.168.56.12 (ssh-ed25519 SHA256:" in unknown.stderr
    lab.known_hosts.write_text(known_hosts)
    netplan("apply", topology, "-p", "lab", "--yes", check=True)
    assert in_sync(topology)
    assert destroyed(topology, lab)


def round_trips(topology: Path, destroy: bool = False) -> dict[str, int]:
    """Apply (or destroy) through the pipeline's stages; each host's SSH round trips."""
    opened = TopologyFile(topology)
    with pipeline.connect_hosts(opened.outline, "lab") as hosts:
        connections = dict(hosts)
        observed = pipeline.observe(opened.outline, hosts)
        plans = pipeline.plan({} if destroy else opened.desired(observed), observed)
        pipeline.execute(opened.outline, plans, hosts)
        pipeline.verify(opened.outline, hosts, plans)
        assert not hosts.failed
    return {name: c.round_trips for name, c in connections.items() if isinstance(c, SSHConnection)}


def test_round_trips_per_host_do_not_grow_with_the_topology(lab: Lab, tmp_path: Path) -> None:
    """The same topology with 10, then 100 containers per host: the same round trips."""
    small = write_topology(tmp_path / "small.yaml", "grow", {"hostA": 10, "hostB": 10})
    large = write_topology(tmp_path / "large.yaml", "grow", {"hostA": 100, "hostB": 100})
    first = round_trips(small)
    assert all(count > 5 for count in first.values())  # the agent was uploaded, once
    counts = [round_trips(small, destroy=True), round_trips(small), round_trips(large)]
    counts.append(round_trips(large, destroy=True))
    # connect, exec of the cached agent, observe, apply, observe (verify)
    assert counts == [{"hostA": 5, "hostB": 5}] * 4
    grown = write_topology(tmp_path / "grown.yaml", "grow", {"hostA": 11, "hostB": 10})
    round_trips(small)
    # hostB's plan is empty: it is neither applied nor verified
    assert round_trips(grown) == {"hostA": 5, "hostB": 3}
    round_trips(grown, destroy=True)
    assert netns_names(lab, "hostA") == netns_names(lab, "hostB") == set()
