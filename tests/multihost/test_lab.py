"""`netplan lab`: simulated hosts that behave like separate machines, and leave nothing behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from providers.lab import Lab
from providers.lab_lock import lab_locked
from tests.e2e.hostview import assert_unchanged, ip_json, netplan, snapshot
from tests.multihost.labview import alive, in_host, netns_names


def test_up_status_down_through_the_cli(lab_dir: Path) -> None:
    before = snapshot()
    started = netplan("lab", "up", "-n", "3", check=True)
    assert "hostC  192.168.56.13  running" in started.stdout
    assert f"ssh -i {lab_dir}/id_ed25519" in started.stdout
    status = json.loads(netplan("lab", "status", "--json", check=True).stdout)
    assert {name: h["address"] for name, h in status["hosts"].items()} == {
        "hostA": "192.168.56.11",
        "hostB": "192.168.56.12",
        "hostC": "192.168.56.13",
    }
    pids = [h["pid"] for h in status["hosts"].values()]
    assert all(alive(pid) for pid in pids)
    assert netplan("lab", "down", check=True).stdout == "stopped hostA, hostB, hostC\n"
    assert not lab_dir.exists()
    assert not [pid for pid in pids if alive(pid)]
    assert_unchanged(before, snapshot())
    assert netplan("lab", "down", check=True).stdout.startswith("no lab was running")


def test_hosts_are_separate_machines(lab: Lab) -> None:
    """Own hostname, own `ip netns` list, own files, own interfaces; the machine sees none."""
    for name in ("hostA", "hostB"):
        assert in_host(lab, name, "hostname").stdout.strip() == name
    created = in_host(lab, "hostA", "sh", "-c", "ip netns add web && echo a > /root/lab-file")
    assert created.returncode == 0, created.stderr
    assert netns_names(lab, "hostA") == {"web"}
    assert netns_names(lab, "hostB") == set()
    assert in_host(lab, "hostB", "cat", "/root/lab-file").returncode != 0
    assert not Path("/root/lab-file").exists()
    interfaces = in_host(lab, "hostB", "ls", "/sys/class/net").stdout.split()
    assert sorted(interfaces) == ["lo", "ul0"]


def test_up_is_idempotent_and_adds_hosts(lab: Lab, lab_dir: Path) -> None:
    again = netplan("lab", "up", "--hosts", "hostA,hostB,hostC", check=True)
    assert "hostC  192.168.56.13  running" in again.stdout
    now = Lab.load(lab_dir)
    assert now.hosts["hostA"].process == lab.hosts["hostA"].process
    assert now.hosts["hostC"].running


def test_a_second_lab_does_not_take_the_first_ones_bridge(lab: Lab, tmp_path: Path) -> None:
    other = tmp_path / "other"
    result = netplan("lab", "up", "--dir", other)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: labbr0 belongs to the lab in {lab.directory}; nothing was changed "
        f"(hint: use that lab, or stop it: netplan lab down --dir {lab.directory})\n"
    )
    assert not other.exists()


def test_bad_host_names_are_refused(lab_dir: Path) -> None:
    result = netplan("lab", "up", "--hosts", "hostA,a-name-too-long")
    assert result.returncode == 1
    assert "lab host names must be 1 to 11" in result.stderr
    assert not lab_dir.exists()


def test_a_lab_directory_that_cannot_be_made_changes_nothing(tmp_path: Path) -> None:
    before = snapshot()
    (tmp_path / "file").write_text("")
    result = netplan("lab", "up", "--dir", tmp_path / "file" / "lab")
    assert result.returncode == 1
    assert result.stderr == (
        f"error: cannot make the lab's directory {tmp_path}/file/lab: Not a directory "
        f"(hint: choose a writable directory with --dir or NETPLAN_LAB_DIR)\n"
    )
    assert_unchanged(before, snapshot())


def test_two_lab_ups_at_once_both_succeed_one_after_the_other(lab_dir: Path) -> None:
    """The second waits for the lab lock, then finds the hosts running (no "RTNETLINK
    answers: File exists" from making the bridge or a host's link twice)."""
    before = snapshot()
    command = [sys.executable, "-m", "netplan", "lab", "up", "--hosts", "hostA,hostB"]
    both = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    outcomes = [(p.wait(timeout=120), *p.communicate()) for p in both]
    assert [(code, err) for code, _, err in outcomes] == [(0, ""), (0, "")], outcomes
    lab = Lab.load(lab_dir)
    assert sorted(lab.hosts) == ["hostA", "hostB"]
    assert all(alive(host.process.pid) for host in lab.hosts.values())
    assert [i["ifname"] for i in ip_json("link", "show", "master", "labbr0")] == \
        ["lab-hostA", "lab-hostB"]  # fmt: skip
    downs = [subprocess.Popen([*command[:4], "down"], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]  # fmt: skip
    said = sorted(p.communicate(timeout=120)[0] for p in downs)
    assert [p.returncode for p in downs] == [0, 0]
    assert said == ["no lab was running in " + str(lab_dir) + "\n", "stopped hostA, hostB\n"]
    assert not lab_dir.exists()
    assert_unchanged(before, snapshot())


def test_a_lab_command_that_finds_the_lab_locked_says_by_whom(lab_dir: Path) -> None:
    with lab_locked("lab up"):
        result = netplan("lab", "up", "--lock-timeout", "0")
    assert result.returncode == 1
    assert result.stderr.startswith("error: the lab is locked by netplan lab up (PID ")
    assert result.stderr.endswith("; nothing was changed (hint: wait for it to finish, or pass "
                                  "--lock-timeout SECONDS to wait longer)\n")
    assert result.stderr.count("\n") == 1
    assert not lab_dir.exists()
