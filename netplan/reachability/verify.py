"""`netplan verify` as a stage: observe → addresses → probes → results."""

from __future__ import annotations

import os

from netplan import pipeline
from netplan.compile import assign_addresses
from netplan.outline import Outline
from netplan.reachability.resolve import plan_checks
from netplan.reachability.run import CheckResult, run_checks
from netplan.topology.loader import load_positions
from netplan.topology.model import Topology
from netplan.topology.positions import Pos


def verify_checks(topology: Topology, outline: Outline, hosts: pipeline.Hosts) -> list[CheckResult]:
    """Every check of the topology run on the hosts it starts from. Containers are
    probed at the addresses apply gives them (the same central allocation)."""
    if not topology.checks:
        return []
    addresses = assign_addresses(topology, pipeline.observe(outline, hosts))
    return run_checks(topology.name, plan_checks(topology, addresses), hosts)


def check_positions(path: str | os.PathLike[str], topology: Topology) -> dict[int, Pos]:
    """Line and column of each check in the file, by its index."""
    positions = load_positions(path)
    where: dict[int, Pos] = {}
    for index in range(len(topology.checks)):
        found = positions.find(f"checks[{index}]")
        if found is not None:
            entry, _ = found
            where[index] = entry.key or entry.value
    return where
