"""The boundary every way of reaching a host implements: one call of the agent's JSON protocol."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class HostConnection(ABC):
    """An open connection to one host's agent, kept for a whole command."""

    def __init__(self, name: str, underlay: str | None = None) -> None:
        self.name = name
        self.underlay = underlay
        """The host's underlay (interface name or IPv4 address) as the provider knows it,
        e.g. `ul0` on lab hosts, `eth1` on Vagrant VMs; the topology's `hosts:` may override."""

    @abstractmethod
    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one versioned JSON request to the host's agent and return its answer."""

    def close(self) -> None:  # noqa: B027 - most connections have nothing to release
        """Release the connection."""
