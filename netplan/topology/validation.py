"""Validate plain data against the model; pydantic's errors become located, human problems."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from ipaddress import ip_network
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, Tag, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from netplan.errors import FieldError, Problem
from netplan.topology.compose import compose_hint
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

_BOUND = {
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
}
"""Messages of the pydantic errors of a number out of its field's range."""

_SCHEMA_HINT = "`netplan schema` describes what each field takes"
"""The hint of a problem no rule below words: where to look the field up."""


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
        message = f"missing required field '{loc[-1]}'"
        hint = _example(tagged, "add `{}: {}`") or f"add `{loc[-1]}:` with a value"
    elif kind == "extra_forbidden":
        at_key = True
        message, hint = f"unknown field '{loc[-1]}'", _unknown_field_hint(tagged)
    elif kind == "value_error":
        message = str(ctx["error"])
        hint = ctx["error"].hint if isinstance(ctx["error"], FieldError) else ""
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
            if isinstance(loc[-1], int):
                message = f"item {text!r} was read as {describe(value)} (YAML 1.1), not as text"
            hint = f'quote it to keep it text: "{text}"'
        elif kind in ("ip_v4_address", "ip_v4_network"):
            hint = _example(tagged, "write it as text, e.g. {1}")
        else:
            hint = _typed_hint(kind, value) or _shape_hint(kind, value, tagged)
    elif kind == "literal_error":
        message = f"expected {ctx['expected']}, got {describe(value)}"
        if loc == ("version",):
            hint = "this netplan reads topology files of version 1"
        else:
            hint = _choice_hint(value, tagged)
    elif kind in _BOUND:
        message = _BOUND[kind].format(**ctx) + f", got {value}"
        hint = _range_hint(tagged)
    hint = hint or _example(tagged, "write it like {1}") or _SCHEMA_HINT
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


def _shape_hint(kind: str, value: Any, loc: Sequence[PathPart]) -> str:
    """How to write a value of the kind the field takes, when it was written as another."""
    if kind in ("int_type", "float_type"):
        number = "a whole number" if kind == "int_type" else "a number"
        bounds = _bounds(_field_at(loc))
        return f"write {number} {bounds}" if bounds else f"write {number}"
    if kind == "string_type":
        return _example(loc, "write one text value, e.g. {1}", str) or "write one text value"
    if kind == "list_type":
        if isinstance(value, str):
            return f"write it as a list: [{value}]"
        return "write a list: [a, b], or one `- item` per line"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "write a mapping: `key: value` lines indented below it"
    return ""


def _choice_hint(value: Any, loc: Sequence[PathPart]) -> str:
    """For a value that is not one of a field's choices: the closest one, else to pick."""
    field = _field_at(loc)
    literal = _unwrap(field.annotation) if field is not None else None
    choices = get_args(literal) if get_origin(literal) is Literal else ()
    close = difflib.get_close_matches(str(value), [str(choice) for choice in choices], n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return "write one of these" + _default_clause(loc)


def _range_hint(loc: Sequence[PathPart]) -> str:
    bounds = _bounds(_field_at(loc))
    return (f"use a value {bounds}" + _default_clause(loc)) if bounds else ""


def _bounds(field: FieldInfo | None) -> str:
    """A field's range in words, `from 68 to 65535`; empty for a field without one."""
    if field is None:
        return ""
    lower = next((f"from {m.ge}" for m in field.metadata if isinstance(m, Ge)), "")
    lower = lower or next((f"more than {m.gt}" for m in field.metadata if isinstance(m, Gt)), "")
    upper = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    if upper is None:
        return lower
    return f"{lower} to {upper}" if lower.startswith("from") else f"{lower}, at most {upper}"


def _default_clause(loc: Sequence[PathPart]) -> str:
    """`, or leave `mtu:` out` for a field that may be left out (naming its default)."""
    field = _field_at(loc)
    if field is None or field.is_required():
        return ""
    default = f" for {field.default!r}" if isinstance(field.default, str | int | float) else ""
    return f", or leave `{loc[-1]}:` out{default}"


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
        return "remove it"
    if model is Host:
        return "a host takes only `underlay` here: how it is reached comes from the provider"
    name = str(loc[-1])
    allowed = list(_fields(model))
    compose = compose_hint(name, allowed, _HOME_OF_FIELD)
    if compose:
        return compose
    close = difflib.get_close_matches(name, allowed, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    home = _HOME_OF_FIELD.get(name)
    elsewhere = f"; '{name}' belongs under {home}" if home else ""
    return "allowed fields: " + ", ".join(allowed) + elsewhere


def _example(loc: Sequence[PathPart], template: str, kind: type = object) -> str:
    """`template` filled with the field's name and its first example (of type `kind`),
    or empty for a field without one."""
    field = _field_at(loc)
    if field is None or not field.examples or not isinstance(field.examples[0], kind):
        return ""
    return template.format(loc[-1], field.examples[0])


def _field_at(loc: Sequence[PathPart]) -> FieldInfo | None:
    """The field the value at `loc` (as pydantic gives it, tags included) is written for;
    None for a list item or a mapping's value."""
    model = _model_at(loc[:-1])
    return _fields(model).get(str(loc[-1])) if model and loc else None


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

_HOME_OF_FIELD = {
    name: home for model, home in reversed(_HOMES.items()) for name in _fields(model)
}
"""Where a field of that name is written (the first model of _HOMES that has it)."""
