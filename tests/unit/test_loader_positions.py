"""The position index: dotted paths, nearest known position, aliases and merges."""

from __future__ import annotations

import pytest

from netplan.errors import Problem
from netplan.topology.document import parse_document
from netplan.topology.positions import Entry, Pos, Positions, dotted, parent


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        pytest.param((), "", id="root"),
        pytest.param(("name",), "name", id="top-level"),
        pytest.param(
            ("containers", "web", "networks", "front", "ipv4"),
            "containers.web.networks.front.ipv4",
            id="nested",
        ),
        pytest.param(
            ("containers", "web", "networks", "front", "aliases", 1),
            "containers.web.networks.front.aliases[1]",
            id="list-item",
        ),
        pytest.param(("x", 0, 2), "x[0][2]", id="list-of-lists"),
    ],
)
def test_dotted(parts: tuple[str | int, ...], path: str) -> None:
    assert dotted(parts) == path


@pytest.mark.parametrize(
    ("path", "up"),
    [
        pytest.param("name", "", id="top-level"),
        pytest.param("networks.front.subnet", "networks.front", id="key"),
        pytest.param(
            "containers.web.networks.front.aliases[1]",
            "containers.web.networks.front.aliases",
            id="item",
        ),
        pytest.param("", "", id="root"),
    ],
)
def test_parent(path: str, up: str) -> None:
    assert parent(path) == up


DOCUMENT = """\
name: pos
networks:
  front: &net
    subnet: 10.0.0.0/24
    mtu: 1400
  back:
    <<: *net
    mtu: 9000
  side: *net
containers:
  web:
    networks: [front, back]
    flag: yes
"""


@pytest.mark.parametrize(
    ("path", "at_key", "where"),
    [
        pytest.param("name", False, (1, 7), id="scalar-value"),
        pytest.param("name", True, (1, 1), id="scalar-key"),
        pytest.param("networks.front", False, (3, 3), id="mapping-points-at-its-key"),
        pytest.param("networks.front.gateway", False, (3, 3), id="missing-field-at-parent-key"),
        pytest.param("networks.back.subnet", False, (4, 13), id="merged-value-where-written"),
        pytest.param("networks.back.mtu", False, (8, 10), id="explicit-key-wins-over-merge"),
        pytest.param("networks.side.mtu", False, (5, 10), id="through-alias"),
        pytest.param("networks.side", False, (9, 3), id="alias-site-itself"),
        pytest.param("containers.web.networks[1]", False, (12, 23), id="list-item"),
        pytest.param("containers.web.networks.front.ipv4", False, (12, 16), id="below-list-item"),
        pytest.param("nowhere.at.all", False, (1, 1), id="unknown-falls-back-to-root"),
    ],
)
def test_locate(path: str, at_key: bool, where: tuple[int, int]) -> None:
    document = parse_document(DOCUMENT, "pos.yaml")
    positions = document.positions
    positions.copy("containers.web.networks.front", "containers.web.networks[0]")
    located = positions.locate(Problem("x", path), at_key=at_key)
    assert (located.file, located.line, located.column) == ("pos.yaml", *where)


def test_source_text_is_kept_for_values_yaml_did_not_read_as_text() -> None:
    positions = parse_document(DOCUMENT, "pos.yaml").positions
    assert positions.text("containers.web.flag") == "yes"
    assert positions.text("name") is None


def test_merge_keeps_explicit_keys_and_yaml_order() -> None:
    data = parse_document(DOCUMENT, "pos.yaml").data
    assert data["networks"]["back"] == {"subnet": "10.0.0.0/24", "mtu": 9000}
    assert data["networks"]["side"] is data["networks"]["front"]


def test_nothing_recorded_is_located_at_file_level() -> None:
    located = Positions("f.yaml").locate(Problem("x", "a.b"))
    assert (located.file, located.line, located.column) == ("f.yaml", 0, 0)


def test_links_that_point_into_each_other_do_not_hang() -> None:
    positions = Positions("f.yaml")
    positions.add("", Entry(None, Pos(1, 1), False))
    positions.link("a", "b")
    positions.link("b", "a")
    assert positions.find("a.x") is None
