"""SSH faults, one table: each breaks hostB in one way while hostA is healthy. Every fault
gives exactly one error line naming hostB, the cause and a hint; exit 1; no traceback; the
summary table shows hostA applied (then in sync, then destroyed) and hostB failed.

The faults are real, made on the lab: an address of the lab's subnet nobody answers on, a
port nobody listens on, a key the host does not authorize, a known_hosts file without the
host's key or with another one, python3 or sudo removed from the host (its root is an
overlay with a private upper layer: the machine keeps its own), a user without sudo (the
host's /etc/passwd is its own too). The connection dropped in the middle of an apply is
its own test below: the sshd process serving the session is killed, by PID.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from providers.lab import Lab
from providers.lab_keys import ensure_key
from providers.ssh import LOST_HINT
from tests.e2e.hostview import netplan
from tests.multihost.labview import alive, in_host, netns_names, write_topology

ADDRESS = {"hostA": "192.168.56.11", "hostB": "192.168.56.12"}
NOBODY = "192.168.56.99"
"""In the lab's subnet; no lab host has it."""

Setup = Callable[[Lab, Path], dict[str, str]]
"""Breaks hostB (on the lab, or in its inventory entry); returns its inventory settings."""


def inventory(lab: Lab, folder: Path, hostb: dict[str, str]) -> Path:
    """The lab's hosts as an ssh inventory; hostB's settings replaced by `hostb`."""
    hosts = {
        "hostA": {"address": ADDRESS["hostA"]},
        "hostB": {"address": ADDRESS["hostB"], **hostb},
    }
    text = f"defaults:\n  key: {lab.key}\n  known_hosts: {lab.known_hosts}\nhosts:\n"
    for name, settings in hosts.items():
        text += f"  {name}: {{" + ", ".join(f"{k}: {v}" for k, v in settings.items()) + "}\n"
    path = folder / "inventory.yaml"
    path.write_text(text)
    return path


def in_hostb(lab: Lab, script: str) -> None:
    result = in_host(lab, "hostB", "sh", "-c", script)
    assert result.returncode == 0, result.stderr


def nothing(lab: Lab, folder: Path) -> dict[str, str]:
    return {}


def unreachable(lab: Lab, folder: Path) -> dict[str, str]:
    return {"address": NOBODY, "timeout": "2"}


def closed_port(lab: Lab, folder: Path) -> dict[str, str]:
    return {"port": "2222"}


def wrong_key(lab: Lab, folder: Path) -> dict[str, str]:
    ensure_key(folder / "stranger")
    return {"key": str(folder / "stranger")}


def unknown_host_key(lab: Lab, folder: Path) -> dict[str, str]:
    (folder / "known_hosts").write_text("")
    return {"known_hosts": str(folder / "known_hosts")}


def changed_host_key(lab: Lab, folder: Path) -> dict[str, str]:
    impostor = ensure_key(folder / "impostor")
    (folder / "known_hosts").write_text(f"{ADDRESS['hostB']} {impostor}\n")
    return {"known_hosts": str(folder / "known_hosts")}


def missing_interpreter(lab: Lab, folder: Path) -> dict[str, str]:
    return {"python": "/opt/nowhere/python3"}


def no_python_on_host(lab: Lab, folder: Path) -> dict[str, str]:
    in_hostb(lab, "rm /usr/bin/python3 && ! command -v python3")
    return {}


def user_without_sudo(lab: Lab, folder: Path) -> dict[str, str]:
    in_hostb(lab, "useradd -m -p '*' worker")
    return {"user": "worker"}


def no_sudo_on_host(lab: Lab, folder: Path) -> dict[str, str]:
    in_hostb(lab, "useradd -m -p '*' worker && rm /usr/bin/sudo && ! command -v sudo")
    return {"user": "worker"}


@dataclass(frozen=True)
class Fault:
    setup: Setup
    stage: str
    """Where hostB's run stops, a regular expression: `connect`, or FIRST_CALL."""
    error: str
    """A regular expression for the one error line, after `error: `."""
    needs: list[str] = field(default_factory=list)
    """Programs the fault needs on this machine."""


FIRST_CALL = "(lock|observe)"
"""The stage of the agent's first call, where a host that cannot run it fails: the host
lock when the command takes one, else observe."""
WHERE = re.escape(f"root@{ADDRESS['hostB']}:22")
FAULTS = {
    "unreachable": Fault(
        unreachable, "connect",
        rf"host hostB: (timed out connecting to root@{re.escape(NOBODY)}:22 "
        rf"\(hint: is the host up and reachable\?\)|cannot connect to root@{re.escape(NOBODY)}"
        r":22: no route to host \(hint: is the host up, with sshd\?\))",
    ),
    "port closed": Fault(
        closed_port, "connect",
        rf"host hostB: cannot connect to root@{re.escape(ADDRESS['hostB'])}:2222: connection "
        r"refused \(hint: is the host up, with sshd\?\)",
    ),
    "auth failure": Fault(
        wrong_key, "connect",
        rf"host hostB: {WHERE} refused authentication: Authentication failed\. \(hint: check "
        r"the user and key in the inventory, and the host's authorized_keys\)",
    ),
    "unknown host key": Fault(
        unknown_host_key, "connect",
        rf"host hostB: refused: the host key of {re.escape(ADDRESS['hostB'])} \(ssh-ed25519 "
        r"SHA256:\S+\) is not in \S+known_hosts \(hint: check the fingerprint, then add it: "
        r"ssh-keyscan .*; or set trust_on_first_use: true in the inventory\)",
    ),
    "changed host key": Fault(
        changed_host_key, "connect",
        rf"host hostB: refused: the host key of {re.escape(ADDRESS['hostB'])} has CHANGED "
        r"\(now ssh-ed25519 SHA256:\S+, \S+ has ssh-ed25519 SHA256:\S+\) \(hint: if the host "
        r"was reinstalled, remove the old key: ssh-keygen -R .*\)",
    ),
    "inventory python missing": Fault(
        missing_interpreter, FIRST_CALL,
        rf"host hostB: /opt/nowhere/python3 was not found on {WHERE} \(hint: install python3 "
        r"on the host: the agent needs nothing else\)",
    ),
    "no python3 on the host": Fault(
        no_python_on_host, FIRST_CALL,
        rf"host hostB: python3 was not found on {WHERE} \(hint: install python3 on the host: "
        r"the agent needs nothing else\)",
    ),
    "user without sudo": Fault(
        user_without_sudo, FIRST_CALL,
        r"host hostB: sudo -n refused to run the agent as root for worker \(hint: allow worker "
        r"passwordless sudo, or connect as root\)",
        needs=["sudo", "useradd"],
    ),
    "no sudo on the host": Fault(
        no_sudo_on_host, FIRST_CALL,
        r"host hostB: sudo is not installed on the host: worker needs it to run the agent "
        r"\(hint: install sudo there, or connect as root\)",
        needs=["sudo", "useradd"],
    ),
}  # fmt: skip


def summary(stdout: str) -> dict[str, str]:
    """The result table: host → result (`applied`, `in sync`, `failed at connect`), each
    row ending in its steps planned, done, failed and rolled back."""
    rows = (re.fullmatch(r"(host\w+)\s+(.+?)(?:\s+[-?\d]+){4}", line)
            for line in stdout.splitlines())  # fmt: skip
    return {row[1]: row[2] for row in rows if row}


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_a_fault_on_one_host_is_one_line_and_the_other_host_completes(
    lab: Lab, tmp_path: Path, fault: Fault
) -> None:
    missing = [program for program in fault.needs if not any(
        Path(d, program).exists() for d in os.environ["PATH"].split(os.pathsep))]  # fmt: skip
    if missing:
        pytest.skip(f"not installed here: {', '.join(missing)}")
    topology = write_topology(tmp_path / "t.yaml", "faults", {"hostA": 2, "hostB": 1})
    path = inventory(lab, tmp_path, fault.setup(lab, tmp_path))
    for command, result_of_a in (("apply", "applied"), ("apply", "in sync"),
                                 ("destroy", "applied")):  # fmt: skip
        run = netplan(command, topology, "-p", "ssh", "-i", path, "--yes")
        assert run.returncode == 1, run.stdout + run.stderr
        assert "Traceback" not in run.stderr and "internal error" not in run.stderr
        (line,) = run.stderr.splitlines()
        assert re.fullmatch(f"error: {fault.error}", line), line
        results = summary(run.stdout)
        assert results.keys() == {"hostA", "hostB"} and results["hostA"] == result_of_a
        assert re.fullmatch(f"failed at {fault.stage}", results["hostB"]), results
        if command == "apply":
            assert netns_names(lab, "hostA") == {"hostA-c0", "hostA-c1"}
    assert netns_names(lab, "hostA") == netns_names(lab, "hostB") == set()


def test_the_healthy_inventory_works(lab: Lab, tmp_path: Path) -> None:
    """The table's baseline: with nothing broken both hosts apply over the same inventory."""
    topology = write_topology(tmp_path / "t.yaml", "faults", {"hostA": 1, "hostB": 1})
    path = inventory(lab, tmp_path, nothing(lab, tmp_path))
    applied = netplan("apply", topology, "-p", "ssh", "-i", path, "--yes", check=True)
    assert summary(applied.stdout) == {"hostA": "applied", "hostB": "applied"}
    assert netplan("plan", topology, "-p", "ssh", "-i", path, "--detailed-exitcode").returncode == 0
    netplan("destroy", topology, "-p", "ssh", "-i", path, "--yes", check=True)
    assert netns_names(lab, "hostA") == netns_names(lab, "hostB") == set()


def test_a_host_whose_sshd_is_stopped_did_not_answer_in_time(lab: Lab, tmp_path: Path) -> None:
    """hostB's sshd (the lab host's PID 1) is stopped (SIGSTOP): the kernel still takes
    the connection, nothing answers. One line says so, with the lab's 5 s connect timeout;
    paramiko's own words ("No existing session") are not shown."""
    topology = write_topology(tmp_path / "t.yaml", "stopped", {"hostA": 1, "hostB": 1})
    sshd = lab.hosts["hostB"].process.pid
    os.kill(sshd, signal.SIGSTOP)
    try:
        check = netplan("check", topology, "-p", "lab")
    finally:
        os.kill(sshd, signal.SIGCONT)
    assert check.returncode == 1, check.stdout + check.stderr
    errors = [line for line in check.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: host hostB: root@{ADDRESS['hostB']}:22 took the connection but did not answer "
        "the SSH handshake within 5 s (the connect timeout) (hint: is the host, or its sshd, "
        "stopped or overloaded? with an ssh inventory, a slow host can be given a larger "
        "`timeout:`)"]
    assert "Traceback" not in check.stderr


# -- the connection dropped in the middle of an apply ------------------------------------


def descendants(pid: int) -> Iterator[int]:
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        yield int(child)
        yield from descendants(int(child))


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def wait_for(condition: Callable[[], object], timeout: float, poll: float = 0.002) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {condition}")


def test_a_connection_dropped_mid_apply(lab: Lab, tmp_path: Path) -> None:
    """hostB's agent is stopped (SIGSTOP) once it has made its first namespace, the sshd
    process serving the session is killed by PID, then the agent is let go. The controller
    says hostB lost its connection, hostA is applied, and a second apply converges."""
    topology = write_topology(tmp_path / "t.yaml", "dropped", {"hostA": 2, "hostB": 200})
    host_pid = lab.hosts["hostB"].process.pid
    run_netns = Path(f"/proc/{host_pid}/root/run/netns")  # hostB's own /run/netns
    printed = tmp_path / "apply.out"  # a file, not a pipe: the plan alone can fill a pipe
    with printed.open("w") as out:  # (64 kB), and the apply would wait on it, never start
        apply = subprocess.Popen(
            [sys.executable, "-m", "netplan", "apply", str(topology), "-p", "lab", "--yes"],
            stdout=out, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        wait_for(lambda: any(run_netns.iterdir()), timeout=60)
        # the agent, and the process it forked to make half of the namespaces beside it
        agents = [p for p in descendants(host_pid) if b".cache/netplan/agent-" in cmdline(p)]
        for agent in agents:
            with suppress(ProcessLookupError):  # the forked one may have finished
                os.kill(agent, signal.SIGSTOP)
        made = len(list(run_netns.iterdir()))
        sessions = [p for p in descendants(host_pid) if cmdline(p).startswith(b"sshd")]
        assert sessions, "no sshd process serves the session"
        for pid in sessions:
            os.kill(pid, signal.SIGKILL)
        _, stderr = apply.communicate(timeout=60)
        stdout = printed.read_text()
    finally:
        if apply.poll() is None:
            apply.kill()
    for agent in agents:
        with suppress(ProcessLookupError):
            os.kill(agent, signal.SIGCONT)  # it finishes its steps or dies writing to no one
    wait_for(lambda: not any(alive(agent) for agent in agents), timeout=60, poll=0.05)
    assert 0 < made < 200
    assert apply.returncode == 1
    assert "Traceback" not in stderr and "internal error" not in stderr
    (line,) = stderr.splitlines()
    assert line == (
        f"error: host hostB: lost the connection to root@{ADDRESS['hostB']}:22 during apply "
        f"(hint: {LOST_HINT})"
    )
    assert summary(stdout) == {"hostA": "applied", "hostB": "failed at apply"}
    converged = netplan("apply", topology, "-p", "lab", "--yes", check=True)
    assert summary(converged.stdout)["hostA"] == "in sync"
    assert len(netns_names(lab, "hostB")) == 200
    assert netplan("plan", topology, "-p", "lab", "--detailed-exitcode").returncode == 0
    netplan("destroy", topology, "-p", "lab", "--yes", check=True)
    assert netns_names(lab, "hostA") == netns_names(lab, "hostB") == set()
