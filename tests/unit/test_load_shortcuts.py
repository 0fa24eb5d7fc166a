"""The shortcuts loading takes for the common case (issue 7: 1,000 containers) give the
answers of the full rules: names, list forms, host of a container, recorded positions."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from netplan.errors import FieldError
from netplan.topology.document import parse_document
from netplan.topology.list_forms import NETWORKS
from netplan.topology.model import Topology, _name
from netplan.topology.positions import Entry, Pos

NAMES = {
    "short": ("web", None),
    "63 bytes": ("a" * 63, None),
    "64 bytes": ("a" * 64, "longer than 63 bytes"),
    "fewer characters, more bytes": ("é" * 40, "longer than 63 bytes"),
    "not ASCII": ("café", "may only contain"),
    "starts with a dot": (".web", "may only contain"),
    "dot": (".", "may only contain"),
    "empty": ("", "must not be empty"),
}


@pytest.mark.parametrize(("name", "problem"), list(NAMES.values()), ids=list(NAMES))
def test_name_rules(name: str, problem: str | None) -> None:
    if problem is None:
        assert _name(name) == name
    else:
        with pytest.raises(FieldError, match=problem):
            _name(name)


LISTS = {
    "names": (["front", "back"], {"front": None, "back": None}),
    "a mapping is kept": ({"front": {}}, {"front": {}}),
    "a name twice": (["front", "back", "front"], "network 'front' is listed twice"),
    "a mapping in the list": (["front", {"back": {}}], "holds only network names"),
    "a number in the list": (["front", 1], "string_type"),
}


@pytest.mark.parametrize(("value", "expected"), list(LISTS.values()), ids=list(LISTS))
def test_list_form(value: object, expected: object) -> None:
    if not isinstance(expected, str):
        assert NETWORKS.to_mapping(value) == expected
        return
    with pytest.raises((FieldError, ValidationError), match=expected):
        NETWORKS.to_mapping(value)


HOSTS = {
    "its own host": ({"a": {"host": "h2"}}, "a", "h2"),
    "the default host": ({"a": {}}, "a", "h1"),
    "the host of the container it shares": (
        {"a": {"network_mode": "container:b"}, "b": {"host": "h2"}}, "a", "h2"),
    "a sharing cycle: the default host": (
        {"a": {"network_mode": "container:b"}, "b": {"network_mode": "container:a"}}, "a", "h1"),
    "host mode: the default host": ({"a": {"network_mode": "host"}}, "a", "h1"),
}


@pytest.mark.parametrize(("containers", "name", "host"), list(HOSTS.values()), ids=list(HOSTS))
def test_host_of_container(containers: dict[str, object], name: str, host: str) -> None:
    topology = Topology.model_validate(
        {"name": "t", "hosts": ["h1", "h2"], "containers": containers}
    )
    assert topology.host_of_container(name) == host


def test_positions_are_looked_up_as_entries_of_pos() -> None:
    positions = parse_document("name: t\nhosts: [h1]\n", "t.yaml").positions
    positions.copy("hosts.h1", "hosts[0]")
    assert positions.find("name") == (Entry(Pos(1, 1), Pos(1, 7), True), True)
    found = positions.find("hosts.h1")
    assert found == (Entry(None, Pos(2, 9), True), True)
    assert found is not None
    assert isinstance(found[0], Entry)
    assert isinstance(found[0].value, Pos)
    assert found[0].value.line == 2
