"""The JSON Schema editors use: the short forms are allowed, the dialect is declared."""

from __future__ import annotations

import json
from pathlib import Path

from netplan.topology.schema import DIALECT, json_schema


def test_schema_declares_dialect_title_and_description() -> None:
    schema = json_schema()
    assert schema["$schema"] == DIALECT
    assert schema["title"] == "netplan topology, version 1"
    assert schema["description"]
    assert "$id" not in schema
    assert set(schema["properties"]) == {"version", "name", "hosts", "networks", "containers",
                                         "checks"}
    assert schema["required"] == ["name"]


def test_schema_is_plain_json() -> None:
    assert json.loads(json.dumps(json_schema())) == json_schema()


def test_schema_allows_the_short_forms() -> None:
    schema = json_schema()
    networks = schema["$defs"]["Container"]["properties"]["networks"]["anyOf"]
    assert {"array", "object"} <= {form.get("type") for form in networks}
    hosts = schema["properties"]["hosts"]["anyOf"]
    assert {"array", "object"} <= {form.get("type") for form in hosts}


def test_schema_describes_fields_and_names() -> None:
    network = json_schema()["$defs"]["BridgeNetwork"]["properties"]
    assert "CIDR" in network["subnet"]["description"]
    assert network["subnet"]["examples"] == ["10.0.0.0/24"]
    bridge = network["bridge"]["anyOf"][0]
    assert bridge["maxLength"] == 15
    assert bridge["pattern"].startswith("^")


def test_the_committed_schema_is_current() -> None:
    """topologies/ point editors at docs/topology.schema.json: regenerate it with
    `netplan schema > docs/topology.schema.json` when the model changes."""
    committed = Path(__file__).parents[2] / "docs" / "topology.schema.json"
    assert json.loads(committed.read_text()) == json_schema()
