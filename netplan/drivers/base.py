"""What every network driver provides to the compiler, and the context it is given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any

from netplan.agent.state import HostState
from netplan.topology.model import Attachment, Topology


@dataclass(frozen=True)
class Context:
    """What the compiler has decided so far, shared by every driver."""

    topology: Topology
    desired: dict[str, HostState]
    """Desired state by host, being filled in."""
    addresses: dict[tuple[str, str], IPv4Address]
    """(container, network) → its IPv4 address (central IPAM)."""
    observed: Mapping[str, HostState]
    """What each reachable host has now, and its facts (an overlay needs each host's
    underlay); a host missing here could not be observed, and is not planned."""


@dataclass(frozen=True)
class Link:
    """A container's interface on a network, as the compiler asks a driver to make it."""

    container: str
    network: str
    attachment: Attachment
    dev: str
    """Interface name inside the container: eth0, eth1, ... in the order of the file."""
    default_route: bool
    """The first network of a container that is not internal carries its default route."""


@dataclass(frozen=True)
class Driver:
    compile_network: Callable[[Context, str, Any], None]
    compile_attachment: Callable[[Context, Link], None]
