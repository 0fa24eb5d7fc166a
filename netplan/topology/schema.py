"""The JSON Schema of topology files, for editors (yaml-language-server modelines)."""

from __future__ import annotations

from typing import Any

from netplan.topology.model import Topology

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """Pydantic's schema of Topology, with the dialect, a title and a description."""
    schema = Topology.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    return {
        "$schema": DIALECT,
        "title": "netplan topology, version 1",
        "description": "Hosts, bridge networks and containers (network namespaces) "
        "that netplan makes and keeps in sync. Reference: docs/topology.md.",
        **schema,
    }
