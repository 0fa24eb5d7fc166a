"""Kernel resources as plain data: the one shape shared by desired and observed state.

Every resource has a `key` (its identity on a host), comparable fields, the keys it
`requires` (must exist first) and a `parent` (deleting the parent makes the kernel delete
this resource too). `ORDER` breaks ties between independent steps, so plans read in a
natural order (namespaces, links, addresses, routes). Fields listed in `MUTABLE` can be
changed in place; a change to any other field is a replace.

Standard library only: this module is shipped to remote hosts inside the agent.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeAlias

ROOT = ""
"""The host's own network namespace."""

MARKER = "netplan"
"""First word of every ownership marker written on kernel objects."""

ROUTE_PROTO = 77
"""rtm_protocol of routes netplan installs (unassigned in iproute2's rt_protos)."""


def netns_marker(topology: str) -> str:
    """Alias of `lo` in every namespace a topology owns."""
    return f"{MARKER}:{topology}"


def bridge_marker(topology: str, network: str) -> str:
    return f"{MARKER}:{topology}:{network}"


def veth_marker(topology: str, container: str, network: str) -> str:
    """Alias of the host end of a container's veth."""
    return f"{MARKER}:{topology}:{network}:{container}"


def parse_marker(alias: str | None) -> tuple[str, ...] | None:
    """Split a marker into (topology, *details); None for anything netplan did not write."""
    if not alias or not alias.startswith(MARKER + ":"):
        return None
    return tuple(alias.split(":")[1:])


def link_key(netns: str, name: str) -> str:
    return f"link:{netns}/{name}"


@dataclass(frozen=True)
class Netns:
    """A named network namespace (`ip netns` compatible) with `lo` up and our marker."""

    KIND: ClassVar[str] = "netns"
    ORDER: ClassVar[int] = 0
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"lo_up"})

    name: str
    lo_up: bool = True

    @property
    def key(self) -> str:
        return f"netns:{self.name}"

    def requires(self) -> tuple[str, ...]:
        return ()

    def parent(self) -> str | None:
        return None

    def claims(self) -> tuple[str, ...]:
        return (self.key,)

    def describe(self) -> str:
        return f"netns {self.name}"


@dataclass(frozen=True)
class Bridge:
    """A Linux bridge in the root namespace serving one network of the topology."""

    KIND: ClassVar[str] = "bridge"
    ORDER: ClassVar[int] = 1
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"network", "mtu", "up"})

    name: str
    network: str
    mtu: int | None = None
    """None leaves the MTU to the kernel (which follows the smallest port)."""
    up: bool = True

    @property
    def key(self) -> str:
        return link_key(ROOT, self.name)

    def requires(self) -> tuple[str, ...]:
        return ()

    def parent(self) -> str | None:
        return None

    def claims(self) -> tuple[str, ...]:
        return (self.key,)

    def describe(self) -> str:
        return f"bridge {self.name}"


@dataclass(frozen=True)
class Veth:
    """A veth pair: `name` inside namespace `netns`, `peer` in the root namespace on `bridge`."""

    KIND: ClassVar[str] = "veth"
    ORDER: ClassVar[int] = 2
    MUTABLE: ClassVar[frozenset[str]] = frozenset(
        {"bridge", "container", "network", "mac", "mtu", "up"}
    )

    netns: str
    name: str
    peer: str
    bridge: str
    container: str
    network: str
    mac: str | None = None
    """Lower-case; None leaves the kernel's random address alone."""
    mtu: int = 1500
    up: bool = True

    @property
    def key(self) -> str:
        return link_key(self.netns, self.name)

    def requires(self) -> tuple[str, ...]:
        return (f"netns:{self.netns}", link_key(ROOT, self.bridge))

    def parent(self) -> str | None:
        return f"netns:{self.netns}"

    def claims(self) -> tuple[str, ...]:
        return (self.key, link_key(ROOT, self.peer))

    def describe(self) -> str:
        return f"veth {self.netns}/{self.name}"


@dataclass(frozen=True)
class Address:
    """An IP address (CIDR form, e.g. 172.17.0.2/16) on a link."""

    KIND: ClassVar[str] = "address"
    ORDER: ClassVar[int] = 3
    MUTABLE: ClassVar[frozenset[str]] = frozenset()

    netns: str
    dev: str
    cidr: str

    @property
    def key(self) -> str:
        return f"addr:{self.netns}/{self.dev}/{self.cidr}"

    def requires(self) -> tuple[str, ...]:
        return (link_key(self.netns, self.dev),)

    def parent(self) -> str | None:
        return link_key(self.netns, self.dev)

    def claims(self) -> tuple[str, ...]:
        return (self.key,)

    def describe(self) -> str:
        where = f"{self.netns}/{self.dev}" if self.netns else self.dev
        return f"address {self.cidr} on {where}"


@dataclass(frozen=True)
class Route:
    """A route in a namespace's main table; `dst` is a CIDR or "default"."""

    KIND: ClassVar[str] = "route"
    ORDER: ClassVar[int] = 4
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"gateway"})

    netns: str
    dst: str
    dev: str
    gateway: str | None = None

    @property
    def key(self) -> str:
        return f"route:{self.netns}/{self.dst}"

    def requires(self) -> tuple[str, ...]:
        return (link_key(self.netns, self.dev),)

    def parent(self) -> str | None:
        return link_key(self.netns, self.dev)

    def claims(self) -> tuple[str, ...]:
        return (self.key,)

    def describe(self) -> str:
        where = f"in {self.netns}" if self.netns else "on the host"
        return f"route {self.dst} {where}"


Resource: TypeAlias = Netns | Bridge | Veth | Address | Route

RESOURCE_TYPES: dict[str, type[Resource]] = {
    cls.KIND: cls for cls in (Netns, Bridge, Veth, Address, Route)
}


def comparable(resource: Resource) -> dict[str, Any]:
    """The fields that are compared between desired and observed."""
    return {f.name: getattr(resource, f.name) for f in fields(resource)}


def to_json(resource: Resource) -> dict[str, Any]:
    """JSON-native values: tuples become lists (from_json turns them back)."""
    values = comparable(resource)
    return {"kind": resource.KIND, **{k: _plain(v) for k, v in values.items()}}


def from_json(data: dict[str, Any]) -> Resource:
    values = {k: _frozen(v) for k, v in data.items() if k != "kind"}
    return RESOURCE_TYPES[data["kind"]](**values)


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def _frozen(value: Any) -> Any:
    """Resources are frozen and hashable: sequences are tuples."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value
