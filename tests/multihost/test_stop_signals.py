"""Stop signals over SSH (netplan/interrupt.py), sent at a deterministic point by
tests/e2e/stop_harness.py: the controller sends each agent a cancel line naming the
signal, which an agent reads between two steps, or before an apply it has not begun
(the line came first), and then rolls back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from providers.lab import Lab
from tests.e2e.hostview import netplan
from tests.e2e.test_stop_signals import BACK, WHY, errors, stopped
from tests.multihost.labview import netns_names, write_topology


@pytest.mark.parametrize("signal", ["TERM", "HUP"])
def test_a_stop_while_the_requests_are_built_stops_every_agent(
    lab: Lab, tmp_path: Path, signal: str
) -> None:
    path = write_topology(tmp_path / "stop.yaml", "stop", {"hostA": 5, "hostB": 5})
    result = stopped("request", signal, "apply", path, "-p", "lab", "--yes")
    assert result.returncode == 1, result.stderr
    lines = errors(result)
    stopped_at = re.compile(rf"error: host (host[AB]): interrupted before step (\d+) of \d+: "
                            rf"cancelled by the controller \({WHY[signal]}\)")  # fmt: skip
    firsts = {m[1]: int(m[2]) for line in lines if (m := stopped_at.fullmatch(line))}
    assert firsts.keys() == {"hostA", "hostB"} and 1 in firsts.values(), lines
    assert sum(line.endswith(BACK) for line in lines) == 2, lines
    assert netns_names(lab, "hostA") == netns_names(lab, "hostB") == set()
    assert netplan("plan", path, "-p", "lab", "--destroy", "--detailed-exitcode").returncode == 0
