"""The container a `logs` or `exec` command is about, and a connection to its host only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from netplan.errors import NetplanError
from netplan.topology.loader import load_topology
from netplan.topology.model import Topology
from netplan.topology.wording import suggest
from providers import connectors
from providers.base import HostConnection


@dataclass(frozen=True)
class ContainerTarget:
    topology: Topology
    name: str
    host: str

    @classmethod
    def find(cls, file: Path, name: str) -> ContainerTarget:
        topology = load_topology(file)
        if name not in topology.containers:
            hint = suggest(name, topology.containers, "containers")
            raise NetplanError(f"{file}: no container '{name}' (hint: {hint})")
        return cls(topology, name, topology.host_of_container(name))

    def connect(self, provider: str, inventory: Path | None) -> HostConnection:
        """The container's host alone: the other hosts are not needed."""
        return connectors(provider, [self.host], inventory)[self.host]()
