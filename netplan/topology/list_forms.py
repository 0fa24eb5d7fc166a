"""The list form of `hosts:` and of a container's `networks:`: `[a, b]` is short for the
mapping `{a: {}, b: {}}`.

A problem with an item is told at the item: a name YAML read as something else (`[no,
h2]`: `no` is the boolean false in YAML 1.1), a mapping or list inside the list. The
items are checked by a nested pydantic validation, whose errors pydantic places under the
field (`hosts[0]`), one per item, as if the field were a list.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, TypeAdapter

from netplan.errors import FieldError
from netplan.topology.positions import Positions, child
from netplan.topology.wording import describe


class ListForm:
    """A field written as a mapping of names, or as a list of the names alone."""

    def __init__(self, field: str, what: str, mapping_example: str) -> None:
        self.field = field
        self.what = what
        """What one name names: 'host', 'network'."""
        self.mapping_example = mapping_example
        """The mapping form giving more than the name, for hints."""
        self._items: TypeAdapter[list[str]] = TypeAdapter(
            list[Annotated[str, BeforeValidator(self._not_nested)]],
            config=ConfigDict(strict=True),
        )

    def to_mapping(self, value: Any) -> Any:
        """`value` as the mapping pydantic validates: a list becomes `{name: None, ...}`,
        a mapping is kept, anything else is refused naming both forms."""
        if isinstance(value, list):
            if not all(type(item) is str for item in value):
                self._items.validate_python(value)  # it refuses each item that is no name
            mapping = dict.fromkeys(value)
            if len(mapping) < len(value):
                once_each(value, self.what)
            return mapping
        if value is None or isinstance(value, dict):
            return value
        if isinstance(value, str):
            hint = f"write it as a list: [{value}]"
        else:
            hint = f"write a list of {self.what} names, or a mapping: {self.mapping_example}"
        raise FieldError(
            f"expected a list of {self.what} names or a mapping, got {describe(value)}", hint
        )

    def _not_nested(self, item: Any) -> Any:
        if isinstance(item, dict | list):
            raise FieldError(
                f"the list form of {self.field} holds only {self.what} names, "
                f"got {describe(item)}",
                f"use the mapping form to give more than a name: {self.mapping_example}",
            )
        return item


def once_each(names: list[str], what: str) -> None:
    """Refuses a list of names that holds one twice."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise FieldError(f"{what} {name!r} is listed twice", f"remove the second {name!r}")
        seen.add(name)


HOSTS = ListForm("hosts", "host", "`hosts: {h1: {underlay: eth1}}`")
NETWORKS = ListForm("networks", "network", "`networks: {front: {ipv4: 10.0.0.10}}`")


def index_list_items(data: dict[str, Any], positions: Positions) -> None:
    """The model turns `networks: [front]` into `{front: {}}`: make the paths
    `containers.web.networks.front` and `hosts.h1` point at their list items, so that a
    problem with a name listed there is told at the item."""
    lists = [("hosts", data.get("hosts"))]
    containers = data.get("containers")
    if isinstance(containers, dict):
        lists += [
            (child(child("containers", name), "networks"), container.get("networks"))
            for name, container in containers.items()
            if isinstance(container, dict)
        ]
    for path, items in lists:
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, str):
                    positions.copy(child(path, item), child(path, index))
