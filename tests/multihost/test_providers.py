"""The same lab hosts reached through the ssh provider (an inventory) and the vagrant provider."""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

import pytest

from providers.lab import Lab
from tests.e2e.hostview import netplan
from tests.multihost.labview import in_host, netns_names, write_topology


def inventory(lab: Lab, tmp_path: Path, hosts: str, **defaults: str) -> Path:
    """An inventory for the lab's hosts: its key; known_hosts unless given."""
    settings = {"key": str(lab.key), "known_hosts": str(lab.known_hosts), **defaults}
    text = "defaults:\n" + "".join(f"  {k}: {v}\n" for k, v in settings.items())
    path = tmp_path / "inventory.yaml"
    path.write_text(text + "hosts:\n" + hosts)
    return path


needs_sudo = pytest.mark.skipif(shutil.which("sudo") is None, reason="sudo is not installed")


def add_vagrant_user(lab: Lab, host: str, sudo: bool) -> None:
    """A user like Vagrant's: no password (not locked), root through sudo if allowed."""
    script = "useradd -m -p '*' vagrant"
    if sudo:
        script += " && echo 'vagrant ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/vagrant"
    result = in_host(lab, host, "sh", "-c", script)
    assert result.returncode == 0, result.stderr


def test_an_inventory_with_a_jump_host(lab: Lab, tmp_path: Path) -> None:
    topology = write_topology(tmp_path / "t.yaml", "multi", {"hostA": 1, "hostB": 2})
    hosts = "  hostA: {address: 192.168.56.11}\n  hostB: {address: 192.168.56.12, jump: hostA}\n"
    path = inventory(lab, tmp_path, hosts)
    netplan("apply", topology, "-p", "ssh", "-i", path, "--yes", check=True)
    assert netns_names(lab, "hostB") == {"hostB-c0", "hostB-c1"}
    log = (lab.host_dir("hostB") / "sshd.log").read_text()
    assert "Accepted publickey for root from 192.168.56.11" in log  # came through hostA
    assert netplan("plan", topology, "-p", "ssh", "-i", path, "--detailed-exitcode").returncode == 0
    netplan("destroy", topology, "-p", "ssh", "-i", path, "--yes", check=True)
    assert netns_names(lab, "hostA") == netns_names(lab, "hostB") == set()


def test_a_jump_host_that_cannot_reach_its_target_is_one_line(lab: Lab, tmp_path: Path) -> None:
    topology = write_topology(tmp_path / "t.yaml", "multi", {"hostA": 1, "hostB": 1})
    hosts = "  hostA: {address: 192.168.56.11}\n  hostB: {address: 192.168.56.99, jump: hostA}\n"
    refused = netplan("plan", topology, "-p", "ssh", "-i", inventory(lab, tmp_path, hosts))
    assert refused.returncode == 1
    lines = refused.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: host hostB: "), refused.stderr


def test_trust_on_first_use_records_the_keys(lab: Lab, tmp_path: Path) -> None:
    topology = write_topology(tmp_path / "t.yaml", "multi", {"hostA": 1, "hostB": 1})
    known = tmp_path / "ssh" / "known_hosts"
    hosts = "  hostA: {address: 192.168.56.11}\n  hostB: {address: 192.168.56.12}\n"
    strict = inventory(lab, tmp_path, hosts, known_hosts=str(known))
    refused = netplan("plan", topology, "-p", "ssh", "-i", strict)
    assert refused.returncode == 1 and refused.stderr.count("refused: the host key") == 2
    trusting = inventory(lab, tmp_path, hosts, known_hosts=str(known), trust_on_first_use="true")
    assert netplan("plan", topology, "-p", "ssh", "-i", trusting).returncode == 0
    assert sorted(known.read_text().splitlines()) == lab.known_hosts.read_text().splitlines()
    assert netplan("plan", topology, "-p", "ssh", "-i", strict).returncode == 0


@needs_sudo
def test_a_user_with_sudo_like_vagrant(lab: Lab, tmp_path: Path) -> None:
    topology = write_topology(tmp_path / "t.yaml", "multi", {"hostA": 1, "hostB": 1})
    hosts = "  hostA: {address: 192.168.56.11}\n  hostB: {address: 192.168.56.12}\n"
    path = inventory(lab, tmp_path, hosts, user="vagrant")
    add_vagrant_user(lab, "hostA", sudo=False)
    refused = netplan("apply", topology, "-p", "ssh", "-i", path, "--yes")
    assert refused.returncode == 1
    assert "hostA  applied" not in refused.stdout
    assert (
        "error: host hostA: sudo -n refused to run the agent as root for vagrant "
        "(hint: allow vagrant passwordless sudo, or connect as root)"
    ) in refused.stderr
    assert "host hostB: cannot connect" not in refused.stderr  # hostB: no such user
    add_vagrant_user(lab, "hostB", sudo=True)
    in_host(lab, "hostA", "sh", "-c", "echo 'vagrant ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/v")
    netplan("apply", topology, "-p", "ssh", "-i", path, "--yes", check=True)
    assert netns_names(lab, "hostA") == {"hostA-c0"}
    cached = in_host(lab, "hostA", "sh", "-c", "ls /home/vagrant/.cache/netplan")
    unpacked, archive = cached.stdout.split()  # in vagrant's home, unpacked beside itself
    assert unpacked.startswith("agent-") and archive == f"{unpacked}.pyz"
    assert netplan("plan", topology, "-p", "ssh", "-i", path, "--detailed-exitcode").returncode == 0
    netplan("destroy", topology, "-p", "ssh", "-i", path, "--yes", check=True)


def test_what_cannot_be_used_is_said_per_host(lab: Lab, tmp_path: Path) -> None:
    topology = write_topology(tmp_path / "t.yaml", "multi", {"hostA": 1, "hostB": 1})
    hosts = (
        "  hostA: {address: 192.168.56.11, python: python3-missing}\n"
        "  hostB: {address: 192.168.56.12, port: 2222}\n"
    )
    result = netplan("apply", topology, "-p", "ssh", "-i", inventory(lab, tmp_path, hosts), "--yes")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: host hostA: python3-missing was not found on root@192.168.56.11:22 "
        "(hint: install python3 on the host: the agent needs nothing else)",
        "error: host hostB: cannot connect to root@192.168.56.12:2222: connection refused "
        "(hint: is the host up, with sshd?)",
    ]
    assert "hostA  failed at lock" in result.stdout  # its first call to the agent
    assert "hostB  failed at connect" in result.stdout


@pytest.fixture
def fake_vagrant(lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Vagrantfile directory whose `vagrant ssh-config` describes the lab's hosts, in
    Vagrant's format, with Vagrant's user."""
    blocks = [
        f"Host {name}\n  HostName {host.address}\n  User vagrant\n  Port 22\n"
        f"  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n"
        f"  PasswordAuthentication no\n  IdentityFile {lab.key}\n  IdentitiesOnly yes\n"
        f"  LogLevel FATAL\n\n"
        for name, host in lab.hosts.items()
    ]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "vagrant").write_text(f"#!/bin/sh\nprintf %s {shlex.quote(''.join(blocks))}\n")
    (bin_dir / "vagrant").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "Vagrantfile").write_text("")
    for name in lab.hosts:
        add_vagrant_user(lab, name, sudo=True)
    return tmp_path


@needs_sudo
def test_the_same_topology_on_the_lab_and_through_vagrant(
    lab: Lab, fake_vagrant: Path, tmp_path: Path
) -> None:
    """Switching the provider, never the file: applied through one, in sync through the other."""
    topology = write_topology(tmp_path / "t.yaml", "multi", {"hostA": 2, "hostB": 2})
    netplan("apply", topology, "-p", "vagrant", "-i", fake_vagrant, "--yes", check=True)
    assert netns_names(lab, "hostA") == {"hostA-c0", "hostA-c1"}
    assert netplan("check", topology, "-p", "lab").returncode == 0
    netplan("destroy", topology, "-p", "lab", "--yes", check=True)
    assert netplan("plan", topology, "-p", "vagrant", "-i", fake_vagrant, "--destroy",
                   "--detailed-exitcode").returncode == 0  # fmt: skip
