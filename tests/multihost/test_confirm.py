"""`apply --confirm N` on the lab: a host's agent reverts the change by itself unless netplan
confirms it in time, whether netplan went silent (as when a change cuts the way to the
host) or its connection went; a confirmed change stays.

The controller is frozen (SIGSTOP, by PID) while hostB's agent is still applying, so it
can never confirm; hostB is watched from outside, through its own /run/netns.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.lab import Lab
from tests.e2e.hostview import netplan
from tests.multihost.labview import netns_names, write_topology
from tests.multihost.test_ssh_faults import cmdline, descendants, wait_for

BEFORE = {"hostA": 1, "hostB": 1}
AFTER = {"hostA": 1, "hostB": 40}


@pytest.fixture
def applied(lab: Lab, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The topology as applied (hostB: 1 container), and the change (hostB: 40): another
    file of the same name, applied with --replace."""
    before = write_topology(tmp_path / "before.yaml", "confirm", BEFORE)
    after = write_topology(tmp_path / "after.yaml", "confirm", AFTER)
    netplan("apply", before, "-p", "lab", "--yes", check=True)
    yield before, after
    netplan("destroy", after, "-p", "lab", "--yes", "--replace", check=True)
    assert netns_names(lab, "hostA") == netns_names(lab, "hostB") == set()


def frozen_apply(lab: Lab, after: Path, seconds: int) -> subprocess.Popen[str]:
    """apply --confirm, its controller stopped once hostB's agent has begun the steps."""
    run_netns = Path(f"/proc/{lab.hosts['hostB'].process.pid}/root/run/netns")
    apply = subprocess.Popen(
        [sys.executable, "-m", "netplan", "apply", str(after), "-p", "lab", "--yes",
         "--replace", "--confirm", str(seconds)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(lambda: len(list(run_netns.iterdir())) > 1, timeout=60)
    os.kill(apply.pid, signal.SIGSTOP)
    return apply


def test_unconfirmed_change_is_reverted_at_the_deadline(
    lab: Lab, applied: tuple[Path, Path]
) -> None:
    before, after = applied
    apply = frozen_apply(lab, after, 3)
    try:
        wait_for(lambda: len(netns_names(lab, "hostB")) == 40, timeout=60, poll=0.05)
        wait_for(lambda: len(netns_names(lab, "hostB")) == 1, timeout=30, poll=0.05)
    finally:
        apply.kill()
        apply.communicate(timeout=60)
    assert netplan("plan", before, "-p", "lab", "--detailed-exitcode").returncode == 0


def test_unconfirmed_change_is_reverted_when_the_connection_goes(
    lab: Lab, applied: tuple[Path, Path]
) -> None:
    before, after = applied
    host_pid = lab.hosts["hostB"].process.pid
    apply = frozen_apply(lab, after, 600)
    try:
        wait_for(lambda: len(netns_names(lab, "hostB")) == 40, timeout=60, poll=0.05)
        for pid in [p for p in descendants(host_pid) if cmdline(p).startswith(b"sshd")]:
            os.kill(pid, signal.SIGKILL)  # the SSH session goes; the deadline is far
        wait_for(lambda: len(netns_names(lab, "hostB")) == 1, timeout=30, poll=0.05)
    finally:
        apply.kill()
        apply.communicate(timeout=60)
    assert netplan("plan", before, "-p", "lab", "--detailed-exitcode").returncode == 0


def test_a_confirmed_change_stays(lab: Lab, applied: tuple[Path, Path]) -> None:
    _, after = applied
    result = netplan("apply", after, "-p", "lab", "--yes", "--replace", "--confirm", "2",
                     check=True)
    assert "Apply complete" in result.stdout
    time.sleep(3)  # past the deadline it was confirmed within
    assert len(netns_names(lab, "hostB")) == 40
    assert netplan("plan", after, "-p", "lab", "--detailed-exitcode").returncode == 0


@pytest.mark.parametrize(("sent", "why"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM"),
                                          (signal.SIGHUP, "SIGHUP")])  # fmt: skip
def test_a_stop_over_ssh_rolls_back_and_says_so(
    lab: Lab, applied: tuple[Path, Path], sent: signal.Signals, why: str
) -> None:
    """A stop signal to netplan (by PID) while hostB's agent applies: the agent reads the
    cancel line between two steps, undoes what it did, and its answer says so."""
    before, _ = applied
    big = write_topology(before.parent / "big.yaml", "confirm", {"hostA": 1, "hostB": 200})
    run_netns = Path(f"/proc/{lab.hosts['hostB'].process.pid}/root/run/netns")
    apply = subprocess.Popen(
        [sys.executable, "-m", "netplan", "apply", str(big), "-p", "lab", "--yes", "--replace"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(lambda: len(list(run_netns.iterdir())) > 5, timeout=60)
    apply.send_signal(sent)
    _, err = apply.communicate(timeout=120)
    assert apply.returncode == 1
    lines = err.splitlines()
    assert lines[0].startswith("error: host hostB: interrupted before step ")
    assert lines[0].endswith(f": cancelled by the controller ({why})")
    assert lines[1].startswith("error: host hostB: rolled back ")
    assert lines[1].endswith(": the host is as it was before the apply")
    assert netplan("plan", before, "-p", "lab", "--detailed-exitcode").returncode == 0
