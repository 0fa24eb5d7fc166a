"""What the stages of a command other than compiling need of a topology: its name, and its
hosts in the file's order with what to ask each one's observation for.

Connecting, locking, observing, executing, verifying and recording work from this alone,
so a command whose desired state comes from the compile cache (netplan/compile_cache.py)
never builds the model. Standard library only: the model is not imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HostOutline:
    underlay: str | None = None
    """The underlay as the file gives it (None: as the host's provider knows it)."""
    interfaces: tuple[str, ...] = ()
    """Root-namespace interfaces the host's observation reports on (macvlan parents)."""
    paths: tuple[str, ...] = ()
    """Host paths the host's observation reports on (volumes)."""
    ports: bool = False
    """The host's observation reports the host ports others take (the topology publishes
    ports there)."""
    local_ips: bool = False
    """The host's observation reports the host's IPv4 addresses (a port published there
    is bound to a host IP)."""
    reserved: bool = False
    """The host's observation reports what else Docker keeps out of its default pools
    (a network there gives no `subnet:`: netplan/subnet_pools.py)."""


@dataclass(frozen=True)
class Outline:
    name: str
    hosts: dict[str, HostOutline] = field(default_factory=dict)
    """By name, in the file's order."""

    def facts_asked(self, host: str, provider_underlay: str | None) -> dict[str, Any]:
        """What an observation of `host` reports beside its state (HostState.facts): the
        underlay as the file gives it, else as the provider knows it."""
        spec = self.hosts.get(host, HostOutline())
        asked: dict[str, Any] = {}
        underlay = spec.underlay or provider_underlay
        if underlay is not None:
            asked["underlay"] = underlay
        if spec.interfaces:
            asked["interfaces"] = list(spec.interfaces)
        if spec.paths:
            asked["paths"] = list(spec.paths)
        if spec.ports:
            asked["ports"] = True
        if spec.local_ips:
            asked["local_ips"] = True
        if spec.reserved:
            asked["reserved"] = True
        return asked
