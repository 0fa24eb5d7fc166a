"""Validate plain data against the model; pydantic's errors become located, human problems."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from ipaddress import ip_network
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from netplan.errors import Problem
from netplan.topology.model import (
    Attachment,
    BridgeNetwork,
    Container,
    Host,
    MacvlanNetwork,
    Network,
    OverlayNetwork,
    ReachabilityCheck,
    Topology,
)
from netplan.topology.positions import PathPart, Positions, dotted
from netplan.topology.wording import describe

_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "ip_v4_address": "an IPv4 address",
    "ip_v4_network": "an IPv4 network",
}


_HOMES: dict[type[BaseModel], str] = {
    Topology: "the top level",
    BridgeNetwork: "networks.<network>",
    OverlayNetwork: "networks.<network>",
    MacvlanNetwork: "networks.<network>",
    Container: "containers.<container>",
    Attachment: "containers.<container>.networks.<network>",
    ReachabilityCheck: "checks[<n>]",
}
"""Where each model's fields are written, to say where a misplaced field belongs."""


def validate(data: dict[str, Any], positions: Positions) -> tuple[Topology | None, list[Problem]]:
    """The topology, or None and one located problem per pydantic error."""
    try:
        return Topology.model_validate(data), []
    except ValidationError as exc:
        return None, [_problem(error, positions) for error in exc.errors(include_url=False)]


def _problem(error: ErrorDetails, positions: Positions) -> Problem:
    tagged: Sequence[PathPart] = error["loc"]
    at_key = tagged[-1:] == ("[key]",)
    if at_key:
        tagged = tagged[:-1]
    loc = _untagged(tagged)
    path = dotted(loc)
    kind, value, ctx = error["type"], error["input"], error.get("ctx", {})
    message, hint = error["msg"], ""
    if kind == "missing":
        message, hint = f"missing required field '{loc[-1]}'", _example(tagged, "add `{}: {}`")
    elif kind == "extra_forbidden":
        at_key = True
        message, hint = f"unknown field '{loc[-1]}'", _unknown_field_hint(tagged)
    elif kind == "value_error":
        message = str(ctx["error"])
    elif kind == "union_tag_invalid":
        path = dotted((*loc, "driver"))
        message = f"unknown driver {ctx['tag']!r}"
        hint = f"one of {ctx['expected_tags']}"
    elif kind in ("ip_v4_address", "ip_v4_network") and isinstance(value, str):
        message, hint = _address_problem(kind, value, tagged)
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {describe(value)}"
        text = positions.text(path)
        if value is None:
            hint = "write a value after the colon"
        elif kind == "string_type" and text:
            hint = f'quote it to keep it text: "{text}"'
        elif kind in ("ip_v4_address", "ip_v4_network"):
            hint = _example(tagged, "write it as text, e.g. {1}")
        else:
            hint = _typed_hint(kind, value)
    elif kind == "literal_error":
        message = f"expected {ctx['expected']}, got {describe(value)}"
        if loc == ("version",):
            hint = "this netplan reads topology files of version 1"
    elif kind == "greater_than_equal":
        message = f"must be at least {ctx['ge']}, got {value}"
    elif kind == "less_than_equal":
        message = f"must be at most {ctx['le']}, got {value}"
    elif kind == "greater_than":
        message = f"must be more than {ctx['gt']}, got {value}"
    return positions.locate(Problem(message, path, hint), at_key=at_key)


def _typed_hint(kind: str, value: Any) -> str:
    """How to write a number or a boolean that was written as something else."""
    if kind == "bool_type":
        return "write true or false" + (", without quotes" if isinstance(value, str) else "")
    if kind == "int_type" and isinstance(value, float) and value.is_integer():
        return f"write it as a whole number: {int(value)}"
    if kind in ("int_type", "float_type") and isinstance(value, str):
        try:
            number = int(value) if kind == "int_type" else float(value)
        except ValueError:
            return ""
        return f"write it without quotes: {number}"
    return ""


def _address_problem(kind: str, value: str, loc: Sequence[PathPart]) -> tuple[str, str]:
    what = "IPv4 address" if kind == "ip_v4_address" else "IPv4 network"
    hint = _example(loc, "e.g. {1}")
    if kind == "ip_v4_network":
        try:
            network = ip_network(value, strict=False)
        except ValueError:
            hint = _example(loc, "write it in CIDR form, e.g. {1}")
        else:
            if network.version == 4:
                hint = f"the address part has host bits set; did you mean {network}?"
    return f"{value!r} is not a valid {what}", hint


def _unknown_field_hint(loc: Sequence[PathPart]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    if model is Host:
        return "a host takes only `underlay` here: how it is reached comes from the provider"
    allowed = list(_fields(model))
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    homes = [home for other, home in _HOMES.items() if str(loc[-1]) in _fields(other)]
    elsewhere = f"; '{loc[-1]}' belongs under {homes[0]}" if homes else ""
    return "allowed fields: " + ", ".join(allowed) + elsewhere


def _example(loc: Sequence[PathPart], template: str) -> str:
    model = _model_at(loc[:-1])
    field = _fields(model).get(str(loc[-1])) if model else None
    if field is None or not field.examples:
        return ""
    return template.format(loc[-1], field.examples[0])


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields by the name written in the file (`from`, not `source`)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _untagged(loc: Sequence[PathPart]) -> Sequence[PathPart]:
    """pydantic puts the tag of a tagged union's member into its path: a network's
    driver (`networks.front.overlay.vni`), a command's form (`containers.c.command.list.1`);
    the file has none (`networks.front.vni`, `containers.c.command.1`)."""
    current: Any = Topology
    kept: list[PathPart] = []
    for index, part in enumerate(loc):
        current = _unwrap(current)
        if get_origin(current) in (Union, UnionType):
            member = _tagged_member(current, part)
            if member is not None:
                current = member
                continue
        kept.append(part)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = _fields(current).get(str(part))
            current = field.annotation if field is not None else None
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return (*kept, *loc[index + 1:])
    return tuple(kept)


def _tagged_member(union: Any, tag: PathPart) -> Any:
    """The member of a tagged union (`Annotated[Model, Tag(tag)]`) with this tag, or None."""
    for member in get_args(union):
        if any(isinstance(extra, Tag) and extra.tag == tag for extra in get_args(member)[1:]):
            return get_args(member)[0]
    return None


def _model_at(loc: Sequence[PathPart]) -> type[BaseModel] | None:
    """The model class that validates the value at `loc` (as pydantic gives it, tags
    included), following fields, dicts, lists and tagged unions."""
    current: Any = Topology
    for part in loc:
        if get_origin(current) in (Union, UnionType):
            current = _tagged_member(current, part)
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = _fields(current).get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return None
        current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """`Annotated[X, ...]` → X; `X | None` → X."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, UnionType):
        members = [arg for arg in get_args(annotation) if arg is not NoneType]
        return _unwrap(members[0]) if len(members) == 1 else annotation
    return annotation


_NETWORK = _unwrap(Network)
"""The tagged union of network models."""
