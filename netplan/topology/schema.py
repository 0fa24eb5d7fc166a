"""The JSON Schema of topology files, for editors (yaml-language-server modelines).

The models document their fields with attribute docstrings (a string right after the
field). pydantic's `use_attribute_docstrings` would parse the models' source on every
import; the descriptions are only needed here, so they are read when the schema is made.
"""

from __future__ import annotations

import ast
import inspect
import sys
from functools import cache
from itertools import pairwise
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from netplan.topology.model import Topology

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """Pydantic's schema of Topology, with the dialect, a title and a description."""
    schema = Topology.model_json_schema(schema_generator=DescribedFields)
    schema.pop("title", None)
    schema.pop("description", None)
    return {
        "$schema": DIALECT,
        "title": "netplan topology, version 1",
        "description": "Hosts, bridge networks and containers (network namespaces) "
        "that netplan makes and keeps in sync. Reference: docs/topology.md.",
        **schema,
    }


class DescribedFields(GenerateJsonSchema):
    """Describes each model's properties by its fields' attribute docstrings, as
    `use_attribute_docstrings` would: a field's own `description=` wins, a docstring
    replaces any description its type brings."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        model: type[BaseModel] = schema["cls"]
        properties = json_schema.get("properties", {})
        for name, field in model.model_fields.items():
            docstring = field_docstring(model, name)
            if field.description is not None or docstring is None:
                continue
            alias = (field.validation_alias if self.mode == "validation"
                     else field.serialization_alias)
            key = alias if self.by_alias and isinstance(alias, str) else name
            if key in properties:
                properties[key]["description"] = docstring
        return json_schema


def field_docstring(model: type, field: str) -> str | None:
    """The attribute docstring of `field`, from the class in the MRO that annotates it."""
    for klass in model.__mro__:
        if field in vars(klass).get("__annotations__", {}):
            return _docstrings(klass.__module__).get(klass.__qualname__, {}).get(field)
    return None


@cache
def _docstrings(module: str) -> dict[str, dict[str, str]]:
    """Attribute docstrings of the classes of a module, by class qualname and attribute
    (classes defined inside functions are left out: their qualname is not unique)."""
    try:
        tree = ast.parse(inspect.getsource(sys.modules[module]))
    except (KeyError, OSError, TypeError):
        return {}
    found: dict[str, dict[str, str]] = {}
    classes = [(node, node.name) for node in tree.body if isinstance(node, ast.ClassDef)]
    while classes:
        node, qualname = classes.pop()
        found[qualname] = _class_docstrings(node)
        classes += [(inner, f"{qualname}.{inner.name}") for inner in node.body
                    if isinstance(inner, ast.ClassDef)]
    return found


def _class_docstrings(node: ast.ClassDef) -> dict[str, str]:
    """pydantic's rule: a string expression right after an annotated name in the class
    body documents that name, cleaned as `inspect.cleandoc` cleans docstrings."""
    docs: dict[str, str] = {}
    for previous, statement in pairwise(node.body):
        if (isinstance(previous, ast.AnnAssign) and isinstance(previous.target, ast.Name)
                and isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)):
            docs[previous.target.id] = inspect.cleandoc(statement.value.value)
    return docs
