"""The JSON Schema editors use: the short forms are allowed, the dialect is declared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field

from netplan.topology.model import BridgeNetwork
from netplan.topology.schema import DIALECT, DescribedFields, json_schema


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


def test_every_field_is_described() -> None:
    schema = json_schema()
    for model in [schema, *schema["$defs"].values()]:
        for name, field in model.get("properties", {}).items():
            assert field.get("description"), f"{model.get('title', 'Topology')}.{name}"


class Sample(BaseModel):
    LIMIT: ClassVar[int] = 3
    """Not a field."""

    plain: int = 0
    """One line."""
    indented: int = 0
    """First line,
    then a second,
        then an indented one."""
    aliased: str = Field(default="", alias="from")
    """Named `from` in files."""
    explicit: int = Field(default=0, description="From Field().")
    """Loses to Field(description=)."""
    undocumented: int = 0


class SampleChild(Sample):
    child: bool = False
    """Declared in the subclass."""


def test_attribute_docstrings_become_descriptions_only_in_the_schema() -> None:
    assert BridgeNetwork.model_fields["subnet"].description is None  # nothing parsed at import
    properties = SampleChild.model_json_schema(schema_generator=DescribedFields)["properties"]
    described = {name: field.get("description") for name, field in properties.items()}
    assert described == {
        "plain": "One line.",
        "indented": "First line,\nthen a second,\n    then an indented one.",
        "from": "Named `from` in files.",
        "explicit": "From Field().",
        "undocumented": None,
        "child": "Declared in the subclass.",
    }


def test_the_committed_schema_is_current() -> None:
    """topologies/ point editors at docs/topology.schema.json: regenerate it with
    `netplan schema > docs/topology.schema.json` when the model changes."""
    committed = Path(__file__).parents[2] / "docs" / "topology.schema.json"
    assert json.loads(committed.read_text()) == json_schema()
