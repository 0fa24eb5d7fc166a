"""The last-applied record, controller side: what was desired on a host at its last apply.

The agent keeps it as an opaque JSON object (netplan/agent/record.py); this module gives
it its shape. A record this version cannot read counts as no record: every difference is
then reported as pending, which is what a first apply by this version would be.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import Any

from netplan.agent.resources import RESOURCE_TYPES, field_names, to_json
from netplan.agent.state import AddressTable, HostState, address_table_from_json
from netplan.attachments import address_texts

RECORD_VERSION = 1


def file_digest(path: str | os.PathLike[str]) -> str:
    """`sha256:<hex>` of the topology file's text."""
    from netplan.topology.source import read_source  # imports yaml: not for a cached check

    return "sha256:" + hashlib.sha256(read_source(path).encode()).hexdigest()


@dataclass(frozen=True)
class Source:
    """The topology file an apply was made from."""

    file: str
    """As it was given: what messages name."""
    digest: str
    path: str = ""
    """Absolute: the file whatever directory netplan runs in next (empty: not known, in
    a record or plan made before netplan kept it)."""

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> Source:
        return cls.given(path, file_digest(path))

    @classmethod
    def given(cls, path: str | os.PathLike[str], digest: str) -> Source:
        return cls(os.fspath(path), digest, os.path.abspath(path))

    @classmethod
    def from_json(cls, data: Any) -> Source | None:
        """From a record's or a saved plan's `file`, `digest` and `path`; None if it has
        no `file`."""
        if not isinstance(data, dict) or not isinstance(data.get("file"), str):
            return None
        return cls(data["file"], str(data.get("digest", "")), str(data.get("path", "")))

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "digest": self.digest, "path": self.path}

    @property
    def where(self) -> str:
        """The path to find the file by: the absolute one when known."""
        return self.path or self.file


@dataclass(frozen=True)
class LastApplied:
    resources: tuple[dict[str, Any], ...]
    """The desired state's resources as the record keeps them (compared fields only);
    `desired` decodes them."""
    source: Source
    applied_at: str
    """UTC, ISO 8601."""
    hosts: tuple[str, ...] = ()
    """Every host of the topology at that apply (the agent keeps them as its roster)."""
    addresses: dict[str, dict[str, str]] = field(default_factory=dict)
    """container → network → the IPv4 address given on this host at that apply (the agent
    keeps them beside the record and returns them with every observation, Facts.addresses:
    IPAM keeps them)."""

    @cached_property
    def desired(self) -> HostState:
        """What was desired, decoded on first use: a check of a host in sync needs only
        when and from which file (from_json made sure every resource decodes)."""
        return HostState.decoded(self.resources)

    @classmethod
    def now(cls, desired: HostState, source: Source, hosts: tuple[str, ...] = ()) -> LastApplied:
        at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        resources = tuple([to_json(r, False) for r in desired.resources.values()])
        return cls(resources, source, at, hosts, address_table(desired))

    def to_json(self) -> dict[str, Any]:
        """For the agent to write: its address table is the record's own, not a copy."""
        return {
            "format_version": RECORD_VERSION,
            **self.source.to_json(),
            "applied_at": self.applied_at,
            "hosts": list(self.hosts),
            "addresses": self.addresses,
            "resources": list(self.resources),
        }

    @classmethod
    def from_json(cls, data: Any) -> LastApplied | None:
        """None for no record, or one this version does not understand."""
        if not isinstance(data, dict) or data.get("format_version") != RECORD_VERSION:
            return None
        try:
            resources = tuple(data["resources"])
            if not all(_decodes(item) for item in resources):
                return None
            source = Source(str(data["file"]), str(data["digest"]), str(data.get("path", "")))
            hosts = tuple(str(h) for h in data.get("hosts", ()))
            addresses = address_table_from_json(data.get("addresses", {}))
            return cls(resources, source, str(data["applied_at"]), hosts, addresses)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def _decodes(item: Any) -> bool:
    """Whether from_json() takes `item`: a known kind with its compared fields, no other."""
    if not isinstance(item, dict) or item.get("kind") not in RESOURCE_TYPES:
        return False
    return item.keys() == _record_keys(item["kind"])


@cache
def _record_keys(kind: str) -> frozenset[str]:
    return frozenset(("kind", *field_names(RESOURCE_TYPES[kind])))


def address_table(desired: HostState) -> AddressTable:
    """container → network → IPv4 address, of the attachments in a desired state."""
    table: AddressTable = {}
    for (container, network), address in sorted(address_texts(desired).items()):
        table.setdefault(container, {})[network] = address
    return table
