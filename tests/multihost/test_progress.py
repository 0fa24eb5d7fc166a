"""Progress over SSH: the agent on each lab host reports every step it finishes on its
JSON-lines channel, before its answer and within the same round trip."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from netplan import pipeline, progress
from netplan.topology_file import TopologyFile
from providers.lab import Lab
from providers.ssh import SSHConnection
from tests.e2e.hostview import netplan
from tests.multihost.labview import write_topology


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What a `--verbose` reporter writes, for the duration of the test."""
    written = io.StringIO()
    progress.use(progress.Lines(written))
    yield written
    progress.use(progress.Reporter())


def test_steps_stream_over_ssh_without_more_round_trips(
    lab: Lab, tmp_path: Path, lines: io.StringIO
) -> None:
    topology = write_topology(tmp_path / "t.yaml", "streamed", {"hostA": 3, "hostB": 2})
    netplan("plan", topology, "-p", "lab", check=True)  # the agent is stored on the hosts
    opened = TopologyFile(topology)
    with pipeline.connect_hosts(opened.outline, "lab") as hosts:
        connections = dict(hosts)
        observed = pipeline.observe(opened.outline, hosts)
        plans = pipeline.plan(opened.desired(observed), observed)
        pipeline.execute(opened.outline, plans, hosts)
        pipeline.verify(opened.outline, hosts, plans)
        assert not hosts.failed
    # connect, exec of the cached agent, observe, apply (with its progress lines), observe
    assert {n: c.round_trips for n, c in connections.items()
            if isinstance(c, SSHConnection)} == {"hostA": 5, "hostB": 5}  # fmt: skip
    for host, plan in plans.items():
        total = len(plan.steps)
        reported = re.findall(rf"^{host}: \[(\d+)/{total}\] ", lines.getvalue(), re.MULTILINE)
        assert [int(done) for done in reported] == list(range(1, total + 1))
    netplan("destroy", topology, "-p", "lab", "--yes", check=True)


def test_verbose_apply_over_ssh_shows_each_hosts_steps(lab: Lab, tmp_path: Path) -> None:
    topology = write_topology(tmp_path / "t.yaml", "streamed", {"hostA": 1, "hostB": 1})
    applied = netplan("--verbose", "apply", topology, "-p", "lab", "--yes", check=True)
    for host in ("hostA", "hostB"):
        assert f"{host}: connect done in " in applied.stderr
        assert f"{host}: [1/" in applied.stderr and f"{host}: verify done in " in applied.stderr
    assert "hostA  applied" in applied.stdout
    netplan("destroy", topology, "-p", "lab", "--yes", check=True)
