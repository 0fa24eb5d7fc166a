"""A host whose agent hangs: the call's deadline makes it that host's error, the others finish."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from netplan import pipeline
from netplan.topology_file import TopologyFile
from providers.lab import Lab
from providers.ssh import CallTimeouts, SSHConnection
from tests.e2e.hostview import netplan
from tests.multihost.labview import netns_names, write_topology


def descendants(pid: int) -> Iterator[int]:
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        yield int(child)
        yield from descendants(int(child))


def agent_pid(lab: Lab, host: str) -> int:
    """The one agent running on the host: the process our connection started there."""
    (pid,) = [
        pid for pid in descendants(lab.hosts[host].process.pid)
        if b".cache/netplan/agent-" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]  # fmt: skip
    return pid


@contextmanager
def hung(pid: int) -> Iterator[None]:
    """The process stopped (SIGSTOP) meanwhile, then killed: resumed, it would still run
    the request it was sent, racing the test's next command."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGKILL)


def test_a_hung_agent_becomes_its_hosts_error(lab: Lab, tmp_path: Path) -> None:
    topology = write_topology(tmp_path / "t.yaml", "hang", {"hostA": 2, "hostB": 2})
    opened = TopologyFile(topology)
    with pipeline.connect_hosts(opened.outline, "lab") as hosts:
        slow = hosts["hostB"]
        assert isinstance(slow, SSHConnection)
        slow.target = replace(slow.target, call_timeouts=CallTimeouts(apply=1.0))
        observed = pipeline.observe(opened.outline, hosts)  # both agents run and answer
        with hung(agent_pid(lab, "hostB")):
            plans = pipeline.plan(opened.desired(observed), observed)
            pipeline.execute(opened.outline, plans, hosts)
            pipeline.verify(opened.outline, hosts, plans)
        assert list(hosts) == ["hostA"]
        failure = hosts.failed["hostB"]
        assert failure.stage == "apply"
        assert failure.error.lines() == [
            "host hostB: the agent did not answer within 1 s (hint: the host may be hung or "
            "overloaded (look at it over ssh: ps, dmesg); once it answers, run the command "
            "again: a re-run converges)"
        ]
    assert netns_names(lab, "hostA") == {"hostA-c0", "hostA-c1"}
    netplan("apply", topology, "-p", "lab", "--yes", check=True)
    assert netns_names(lab, "hostB") == {"hostB-c0", "hostB-c1"}
    assert netplan("plan", topology, "-p", "lab", "--detailed-exitcode").returncode == 0
    netplan("destroy", topology, "-p", "lab", "--yes", check=True)
    assert netns_names(lab, "hostA") == netns_names(lab, "hostB") == set()
