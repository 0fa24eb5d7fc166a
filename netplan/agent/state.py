"""A host's state (desired or observed) and the steps that change it, with their JSON form.

This JSON is the versioned protocol between the controller and the agent.
Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from netplan.agent.resources import Resource, from_json, to_json

PROTOCOL_VERSION = 1

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
class Facts:
    """What the controller learns about a host besides the resources it owns. Every
    field is optional in the JSON: an agent that does not know one leaves it out."""

    underlay: Underlay | None = None
    """Observed when the request names an underlay."""

    def to_json(self) -> dict[str, Any]:
        return {} if self.underlay is None else {"underlay": asdict(self.underlay)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Facts:
        """Fields a newer agent may add are left out, not refused."""
        underlay = data.get("underlay")
        if not underlay:
            return cls()
        known = {f.name for f in fields(Underlay)}
        return cls(underlay=Underlay(**{k: v for k, v in underlay.items() if k in known}))


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
        state = cls(foreign=dict(data.get("foreign", {})),
                    facts=Facts.from_json(data.get("facts", {})))
        for item in data["resources"]:
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
