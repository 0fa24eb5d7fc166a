"""The shortcuts loading takes for the common case (issue 7: 1,000 containers) give the
answers of the full rules: names, list forms, host of a container, recorded positions."""

from __future__ import annotations

from netplan.topology.document import parse_document
from netplan.topology.positions import Entry, Pos


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
