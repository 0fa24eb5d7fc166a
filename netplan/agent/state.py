"""A host's state (desired or observed) and the steps that change it, with their JSON form.

This JSON is the versioned protocol between the controller and the agent.
Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from netplan.agent.resources import Resource, from_json, to_json

PROTOCOL_VERSION = 2
"""2: a hosts file's content is one string (1: a list of lines)."""

Op = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class Underlay:
    """Where overlay tunnels leave a host: `hint` (an interface name or IPv4 address, as
    the controller asked) resolved to the interface, its IPv4 address and its MTU; or
    `error`, one line saying why it could not be."""

    hint: str
    interface: str = ""
    address: str = ""
    mtu: int = 0
    error: str = ""


@dataclass(frozen=True)
class Interface:
    """A root-namespace link the controller asked about (a macvlan network's parent),
    whoever owns it."""

    kind: str
    """The link kind (`vlan`, `veth`, ...); empty for a physical interface."""
    mtu: int
    up: bool


@dataclass(frozen=True)
class VniInUse:
    """What a VXLAN device of the host's root namespace that the topology does not own
    takes: the kernel refuses a second device there with its VNI on its UDP port."""

    vni: int
    port: int


@dataclass(frozen=True, order=True)
class PortInUse:
    """A host port that something the topology does not own takes on the root
    namespace: another netplan topology publishes it (`topology` names it), or a process
    listens on it (`topology` empty). A published port of the topology there would take
    its traffic (netplan/plan/port_clashes.py)."""

    protocol: str
    port: int
    address: str
    """The IPv4 address it is taken on; `0.0.0.0` for every address of the host."""
    topology: str = ""


@dataclass(frozen=True)
class Facts:
    """What the controller learns about a host besides the resources it owns. Every
    field is optional in the JSON: an agent that does not know one leaves it out."""

    underlay: Underlay | None = None
    """Observed when the request names an underlay."""
    interfaces: dict[str, Interface] = field(default_factory=dict)
    """Of the interfaces the request names, those that exist, by name."""
    vlan_support: bool = False
    """Whether the kernel can make 802.1Q VLAN links (told when interfaces are asked)."""
    paths: dict[str, str] = field(default_factory=dict)
    """Of the host paths the request names (volumes), what each is: `dir`, `file`,
    `other`, or `missing`."""
    roster: tuple[str, ...] = ()
    """The topology's hosts at its last apply on this host: a host since taken out of
    the file is found this way, and emptied."""
    addresses: dict[str, dict[str, str]] = field(default_factory=dict)
    """container → network → IPv4 address netplan gave it at its last apply on this
    host: IPAM keeps these (an address changed by hand is drift, not the new desired)."""
    prefixes: dict[str, str] = field(default_factory=dict)
    """The IPv4 addresses (`10.0.0.5/24`) of the root namespace's links this topology
    does not own, and the link of each: a bridge network whose subnet overlaps one would
    take over the host's route to it (netplan/plan/overlaps.py)."""
    reserved: tuple[str, ...] | None = None
    """When asked: what else Docker keeps out of its default pools on the host, the IPv4
    nameservers of its /etc/resolv.conf (`/32`s) and the destinations of its on-link
    routes through links the topology does not own (netplan/agent/reserved.py), sorted.
    None: not asked (every network of the file gives a subnet)."""
    vnis_in_use: dict[str, VniInUse] = field(default_factory=dict)
    """By device name, the VXLAN devices of the root namespace the topology does not own
    (whose they are is in HostState.foreign): an overlay's VNI must be free of them.
    Observed with the root namespace."""
    ports_in_use: tuple[PortInUse, ...] = ()
    """The ports other netplan topologies publish on the host and those its processes
    listen on (netplan/agent/ports.py), sorted. Observed with the root namespace."""
    local_ips: tuple[str, ...] | None = None
    """The IPv4 networks of the addresses the root namespace's links have, whoever owns
    them (`192.0.2.1/32`, and lo's `127.0.0.0/8`), sorted: a port published on a host IP
    must be bound to one (netplan/plan/publish_ips.py). None: not asked."""
    namespace_owners: dict[str, str] = field(default_factory=dict)
    """When asked: the named namespaces the topology does not own, each with the
    topology the marker on its `lo` names ('' when it has none: made by hand, or not a
    namespace). verify judges the containers a check involves by it
    (netplan/reachability/ownership.py)."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.underlay is not None:
            data["underlay"] = asdict(self.underlay)
        if self.interfaces or self.vlan_support:
            data["interfaces"] = {n: asdict(i) for n, i in self.interfaces.items()}
            data["vlan_support"] = self.vlan_support
        if self.paths:
            data["paths"] = dict(self.paths)
        if self.roster:
            data["roster"] = list(self.roster)
        if self.addresses:
            data["addresses"] = {c: dict(n) for c, n in self.addresses.items()}
        if self.prefixes:
            data["prefixes"] = dict(self.prefixes)
        if self.reserved is not None:
            data["reserved"] = list(self.reserved)
        if self.vnis_in_use:
            data["vnis_in_use"] = {n: asdict(v) for n, v in self.vnis_in_use.items()}
        if self.ports_in_use:
            data["ports_in_use"] = [asdict(p) for p in self.ports_in_use]
        if self.local_ips is not None:
            data["local_ips"] = list(self.local_ips)
        if self.namespace_owners:
            data["namespace_owners"] = dict(self.namespace_owners)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Facts:
        """Fields a newer agent may add are left out, not refused."""
        underlay, local_ips = data.get("underlay"), data.get("local_ips")
        reserved = data.get("reserved")
        return cls(
            underlay=_known(Underlay, underlay) if underlay else None,
            interfaces={n: _known(Interface, i) for n, i in data.get("interfaces", {}).items()},
            vlan_support=bool(data.get("vlan_support", False)),
            paths=dict(data.get("paths", {})),
            roster=tuple(data.get("roster", ())),
            addresses=address_table_from_json(data.get("addresses", {})),
            prefixes={str(p): str(link) for p, link in data.get("prefixes", {}).items()},
            reserved=None if reserved is None else tuple(map(str, reserved)),
            vnis_in_use={n: _known(VniInUse, v) for n, v in data.get("vnis_in_use", {}).items()},
            ports_in_use=tuple(_known(PortInUse, p) for p in data.get("ports_in_use", ())),
            local_ips=None if local_ips is None else tuple(map(str, local_ips)),
            namespace_owners={str(n): str(o)
                              for n, o in data.get("namespace_owners", {}).items()},
        )


AddressTable = dict[str, dict[str, str]]
"""container → network → IPv4 address, as text: the JSON of an address table (the
last-applied record's `addresses`, Facts.addresses)."""


def address_table_from_json(data: dict[str, Any]) -> AddressTable:
    """An address table from its JSON."""
    return {str(c): {str(n): str(a) for n, a in networks.items()} for c, networks in data.items()}


def _known(cls: Any, data: dict[str, Any]) -> Any:
    """`cls` from the fields of `data` it knows."""
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class HostState:
    """Resources by key. For observed state, `foreign` maps the keys of names that are
    taken on the host by objects this topology does not own to who owns them, and
    `facts` says what else the controller asked to know."""

    resources: dict[str, Resource] = field(default_factory=dict)
    foreign: dict[str, str] = field(default_factory=dict)
    facts: Facts = field(default_factory=Facts)

    def add(self, resource: Resource) -> None:
        self.resources[resource.key] = resource

    def to_json(self) -> dict[str, Any]:
        return {
            "resources": [to_json(r) for r in self.resources.values()],
            "foreign": dict(self.foreign),
            "facts": self.facts.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostState:
        state = cls.decoded(data["resources"])
        state.foreign = dict(data.get("foreign", {}))
        state.facts = Facts.from_json(data.get("facts", {}))
        return state

    @classmethod
    def decoded(cls, items: Iterable[dict[str, Any]]) -> HostState:
        """A state of these resources only, from their JSON (a record's, a saved plan's)."""
        state = cls()
        for item in items:
            state.add(from_json(item))
        return state


@dataclass(frozen=True)
class Step:
    """One kernel operation for the agent: create/delete `resource`, or update `fields` of it."""

    op: Op
    resource: Resource
    fields: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "resource": to_json(self.resource), "fields": list(self.fields)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Step:
        return cls(data["op"], from_json(data["resource"]), tuple(data.get("fields", ())))
