"""Checks → probes: which host and namespace each starts in, and the address it aims at.

Pure: the addresses come from the same central allocation `apply` uses
(netplan.compile.assign_addresses on what the hosts have).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any

from netplan.topology.model import ReachabilityCheck, Topology
from netplan.topology.reach import Protocol, parse_source, parse_target
from netplan.topology.reach_checks import namespace_owner, source_host, target_network

Addresses = Mapping[tuple[str, str], IPv4Address]
"""(container, network) → its address."""


@dataclass(frozen=True)
class PlannedCheck:
    """One check, ready to run: where from, what exactly, and what must happen."""

    index: int
    """Its position in `checks:`."""
    check: ReachabilityCheck
    host: str
    netns: str | None
    """The namespace it starts in; None: the host's own."""
    protocol: Protocol
    address: str
    port: int | None

    @property
    def name(self) -> str:
        return self.check.label

    @property
    def destination(self) -> str:
        """What is probed, as an address: `10.0.0.2`, `tcp://10.0.0.2:80`."""
        if self.port is None:
            return self.address
        return f"{self.protocol}://{self.address}:{self.port}"

    def probe_json(self) -> dict[str, Any]:
        """The agent's probe request (netplan/agent/probe.py)."""
        return {"id": self.index, "netns": self.netns, "protocol": self.protocol,
                "address": self.address, "port": self.port,
                "timeout": self.check.timeout, "retries": self.check.retries}


def plan_checks(topology: Topology, addresses: Addresses) -> list[PlannedCheck]:
    """Every check of the topology (already validated by its cross-file checks)."""
    return [_plan(topology, addresses, index, check)
            for index, check in enumerate(topology.checks)]


def _plan(
    topology: Topology, addresses: Addresses, index: int, check: ReachabilityCheck
) -> PlannedCheck:
    source, target = parse_source(check.source), parse_target(check.to)
    netns = None if source.is_host else namespace_owner(topology, source.name)
    if target.address is not None:
        address = str(target.address)
    else:
        assert target.container is not None
        owner = namespace_owner(topology, target.container)
        network = target_network(topology, source, target.container)
        assert owner is not None and network is not None  # reach_checks made sure
        address = str(addresses[(owner, network)])
    return PlannedCheck(index, check, source_host(topology, source), netns,
                        target.protocol, address, target.port)


def by_host(planned: list[PlannedCheck]) -> dict[str, list[PlannedCheck]]:
    grouped: dict[str, list[PlannedCheck]] = {}
    for item in planned:
        grouped.setdefault(item.host, []).append(item)
    return grouped
