"""The host lock, and apply as a transaction: a failed or interrupted apply is rolled back.

Failures are injected honestly: the apply waits at its question (stdin is a terminal),
and meanwhile someone else makes an object that a later step needs the name of, as a
concurrent tool could. Interrupts are a real SIGINT sent to the netplan process.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from netplan import pipeline
from netplan.agent.resources import Veth
from netplan.agent.state import Step
from netplan.topology_file import TopologyFile
from tests.cache_view import assert_ready_for_the_check, cached_entry
from tests.e2e.hostview import (
    Run,
    assert_unchanged,
    bridge_topology,
    netns_names,
    settled_snapshot,
    sh,
)

PROMPT = "Apply these changes?"


class Interactive:
    """netplan with a terminal for stdin (so it asks), its output read as it comes."""

    def __init__(self, *args: str | Path) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "netplan", *map(str, args)],
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        os.close(slave)
        self.out = b""

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while text.encode() not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} in:\n{self.out.decode()}"
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                assert chunk, f"netplan ended before {text!r}:\n{self.out.decode()}"
                self.out += chunk

    def answer(self, text: str) -> None:
        os.write(self.master, text.encode() + b"\n")

    def finish(self) -> subprocess.CompletedProcess[str]:
        out, err = self.process.communicate(timeout=300)
        os.close(self.master)
        stdout = (self.out + out).decode()
        return subprocess.CompletedProcess(self.process.args, self.process.returncode,
                                           stdout, err.decode())  # fmt: skip


def planned_steps(path: Path) -> list[Step]:
    """The steps an apply of `path` would run, in their order."""
    opened = TopologyFile(path)
    with pipeline.connect_hosts(opened.outline, "local") as hosts:
        observed = pipeline.observe(opened.outline, hosts)
        return pipeline.plan(opened.desired(observed), observed)["local"].steps


def planned_veths(path: Path) -> list[Veth]:
    """The veths an apply of `path` would create, in the order it would."""
    return [s.resource for s in planned_steps(path)
            if s.op == "create" and isinstance(s.resource, Veth)]  # fmt: skip


def test_a_second_apply_is_refused_while_the_first_holds_the_host(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", ["c1", "c2"])
    first = Interactive("apply", path)
    first.wait_for(PROMPT)  # holds the host lock: it has observed and planned
    second = run("apply", path, "--yes")
    assert second.returncode == 1
    line = second.stderr.strip()
    assert line.startswith(f"error: host local: locked by netplan apply (PID {first.process.pid}, ")
    assert "topology 'lab'" in line and "since " in line and "--lock-timeout" in line
    assert "Traceback" not in second.stderr
    # Read-only commands take no lock.
    assert run("plan", path).returncode == 0
    assert run("check", path).returncode == 2
    waiting = subprocess.Popen([sys.executable, "-m", "netplan", "apply", path, "--yes",
                                "--lock-timeout", "60"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    time.sleep(0.5)
    assert waiting.poll() is None  # waiting for the lock
    first.answer("y")
    assert first.finish().returncode == 0
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "Nothing to apply" in out  # it planned after the first apply, not before
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def test_a_killed_holder_leaves_the_host_unlocked(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", ["c1"])
    first = Interactive("apply", path)
    first.wait_for(PROMPT)
    first.process.kill()
    first.finish()
    run("apply", path, "--yes", check=True)
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def summary_row(stdout: str, host: str = "local") -> list[str]:
    """The host's row of the result table: its result, then its steps planned, done,
    failed and rolled back."""
    rows = [re.fullmatch(rf"{host}\s+(.+?)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", line)
            for line in stdout.splitlines()]  # fmt: skip
    [row] = [list(row.groups()) for row in rows if row]
    return row


def refused_at(path: Path, peer: str) -> tuple[int, int]:
    """(the index of the step that makes the veth whose host end is `peer`, how many
    steps the apply of `path` has)."""
    steps = planned_steps(path)
    return next(i for i, s in enumerate(steps) if isinstance(s.resource, Veth)
                and s.resource.peer == peer), len(steps)  # fmt: skip


def test_a_failed_step_rolls_the_host_back_to_before_the_apply(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", [f"c{i}" for i in range(1, 6)])
    peer = planned_veths(path)[3].peer
    index, total = refused_at(path, peer)
    before = settled_snapshot()
    apply = Interactive("apply", path)
    apply.wait_for(PROMPT)
    sh(f"ip link add {peer} type bridge")  # someone else takes a name step N needs
    apply.answer("y")
    result = apply.finish()
    assert result.returncode == 1, result.stdout
    lines = result.stderr.splitlines()
    assert lines[0] == ("error: host local: cannot create veth c4/eth0: already exists")
    assert lines[1].startswith(f"error: host local: rolled back {index} of {index} steps in ")
    assert lines[1].endswith(": the host is as it was before the apply")
    # The summary says what happened, not what was planned: the steps before the refused
    # one ran, it failed, and all of them were undone.
    assert summary_row(result.stdout) == ["failed at apply", str(total), str(index), "1",
                                          str(index)]  # fmt: skip
    sh(f"ip link del {peer}")  # the foreign object is untouched by the rollback
    assert_unchanged(before, settled_snapshot())
    assert not netns_names()
    assert cached_entry(path).observed is None



def test_rollback_of_deletes_and_updates_brings_back_what_was_there(run: Run, tx: Path) -> None:
    first = bridge_topology(tx / "lab.yaml", "lab", ["c1", "c2", "c3"])
    run("apply", first, "--yes", check=True)
    before = settled_snapshot()
    inside = inside_namespaces()
    hosts_files = {p: p.read_bytes() for p in Path("/etc/netns").glob("*/hosts")}
    second = bridge_topology(tx / "lab2.yaml", "lab", ["c1", "c4", "c5"])  # c2, c3 go
    peer = planned_veths(second)[-1].peer
    apply = Interactive("apply", second, "--replace")  # lab.yaml still declares `lab`
    apply.wait_for(PROMPT)
    sh(f"ip link add {peer} type bridge")
    apply.answer("y")
    result = apply.finish()
    assert result.returncode == 1
    assert "the host is as it was before the apply" in result.stderr
    sh(f"ip link del {peer}")
    assert run("plan", first, "--detailed-exitcode").returncode == 0
    after = settled_snapshot()
    # Re-created namespaces come back with their links, MACs and addresses; only what
    # the kernel chooses (interface indexes, host-side MACs) may differ.
    assert inside == inside_namespaces()
    assert root_links(before) == root_links(after)
    # Hosts files come back byte for byte (c1's was rewritten, c2's and c3's removed).
    assert {p: p.read_bytes() for p in Path("/etc/netns").glob("*/hosts")} == hosts_files
    second.unlink()


def inside_namespaces() -> list[tuple[str, str, str, str]]:
    """(namespace, link, MAC, addresses) for every link in every namespace."""
    found = []
    for ns in sorted(netns_names()):
        out = subprocess.run(["ip", "-n", ns, "-j", "addr"], capture_output=True, text=True)
        for link in json.loads(out.stdout):
            addresses = " ".join(sorted(f"{a['local']}/{a['prefixlen']}"
                                        for a in link["addr_info"]))  # fmt: skip
            found.append((ns, link["ifname"], link.get("address", ""), addresses))
    return found


def root_links(state: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, bridge) of the root namespace's links; their MACs are the kernel's choice."""
    return sorted((link["ifname"], link.get("master", "")) for link in state["links"])


def test_no_rollback_keeps_the_steps_done_and_a_reapply_converges(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", [f"c{i}" for i in range(1, 6)])
    peer = planned_veths(path)[3].peer
    index, total = refused_at(path, peer)
    apply = Interactive("apply", path, "--no-rollback")
    apply.wait_for(PROMPT)
    sh(f"ip link add {peer} type bridge")
    apply.answer("y")
    result = apply.finish()
    assert result.returncode == 1
    assert "kept the steps done (--no-rollback); run apply again to converge" in result.stderr
    assert summary_row(result.stdout) == ["failed at apply", str(total), str(index), "1", "0"]
    assert netns_names() == {f"c{i}" for i in range(1, 6)}
    assert cached_entry(path).observed is None
    sh(f"ip link del {peer}")
    run("apply", path, "--yes", check=True)
    assert cached_entry(path).observed is not None
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def test_ctrl_c_during_apply_rolls_back(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "big.yaml", "big", [f"c{i}" for i in range(300)])
    before = settled_snapshot()
    plan_out = (tx / "plan.txt").open("w")  # a pipe would fill up with the plan
    apply = subprocess.Popen([sys.executable, "-m", "netplan", "apply", path, "--yes"],
                             stdin=subprocess.DEVNULL, stdout=plan_out,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while len(netns_names()) < 20:  # the steps are running
        assert time.monotonic() < deadline and apply.poll() is None
        time.sleep(0.01)
    apply.send_signal(signal.SIGINT)
    _, err = apply.communicate(timeout=300)
    plan_out.close()
    assert apply.returncode == 1, err
    lines = err.splitlines()
    assert "interrupted before step" in lines[0] and "cancelled (Ctrl-C)" in lines[0]
    assert "rolled back" in lines[1]
    assert lines[1].endswith(": the host is as it was before the apply")
    assert_unchanged(before, settled_snapshot())
    assert run("plan", path, "--destroy", "--detailed-exitcode").returncode == 0


@pytest.mark.parametrize("answer", ["n", None], ids=["says-no", "no-answer"])
def test_apply_confirm_reverts_unless_kept(run: Run, tx: Path, answer: str | None) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", ["c1", "c2"])
    total = str(len(planned_steps(path)))
    before = settled_snapshot()
    apply = Interactive("apply", path, "--confirm", "2")
    apply.wait_for(PROMPT)
    apply.answer("y")
    apply.wait_for("Keep these changes?")
    assert netns_names() == {"c1", "c2"}
    if answer is not None:
        apply.answer(answer)
    result = apply.finish()
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].endswith(": the host is as it was before the apply")
    # Every step ran, and the revert undid them all (unknown how many when the agent's
    # own deadline came first: it reverted by itself).
    done = [total] if answer else [total, "?"]
    assert summary_row(result.stdout) in [["failed at confirm", total, total, "0", d]
                                          for d in done]  # fmt: skip
    assert_unchanged(before, settled_snapshot())
    assert cached_entry(path).observed is None


def test_apply_confirm_kept(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", ["c1", "c2"])
    apply = Interactive("apply", path, "--confirm", "30")
    apply.wait_for(PROMPT)
    apply.answer("y")
    apply.wait_for("Keep these changes?")
    apply.answer("y")
    result = apply.finish()
    assert result.returncode == 0, result.stderr
    assert_ready_for_the_check(path)  # kept: the state verified is the hosts' state
    assert run("plan", path, "--detailed-exitcode").returncode == 0
