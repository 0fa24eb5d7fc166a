"""A host's state (desired or observed) and the steps that change it, with their JSON form.

This JSON is the versioned protocol between the controller and the agent.
Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from netplan.agent.resources import Resource, from_json, to_json

PROTOCOL_VERSION = 1

Op = Literal["create", "update", "delete"]


@dataclass
class HostState:
    """Resources by key. For observed state, `foreign` maps the keys of names that are
    taken on the host by objects this topology does not own to who owns them."""

    resources: dict[str, Resource] = field(default_factory=dict)
    foreign: dict[str, str] = field(default_factory=dict)

    def add(self, resource: Resource) -> None:
        self.resources[resource.key] = resource

    def to_json(self) -> dict[str, Any]:
        return {
            "resources": [to_json(r) for r in self.resources.values()],
            "foreign": dict(self.foreign),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostState:
        state = cls(foreign=dict(data.get("foreign", {})))
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
