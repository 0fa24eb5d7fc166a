"""`netplan verify` as a stage: observe → addresses → probes → results."""

from __future__ import annotations

import os

from netplan import pipeline
from netplan.compile import assign_addresses
from netplan.outline import Outline
from netplan.reachability.ownership import refusals
from netplan.reachability.resolve import plan_checks
from netplan.reachability.run import CheckResult, run_checks
from netplan.topology.loader import load_positions
from netplan.topology.model import Topology
from netplan.topology.positions import Pos


def verify_checks(topology: Topology, file: str, outline: Outline,
                  hosts: pipeline.Hosts) -> list[CheckResult]:
    """Every check of the topology run on the hosts it starts from. Containers are
    probed at the addresses apply gives them (the same central allocation); a check
    whose containers the observation shows are not the topology's is not run (`file`
    is named in its hint)."""
    if not topology.checks:
        return []
    observed = pipeline.observe(outline, hosts, owners=True)
    planned = plan_checks(topology, assign_addresses(topology, observed))
    return run_checks(topology.name, planned, hosts,
                      refusals(topology, file, planned, observed))


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
