"""Topology files in, problems out: one test per fixture file.

Each file in fixtures/bad/ states what it expects in its header, one line per problem,
in the order they are reported (file order):

    # expect: 5:13 networks.front.subnet: '10.0.0.0/33' is not a valid IPv4 network
    # expect: - the file holds no topology        (a problem with no line and column)

The text after the position must be a substring of the rendered problem, after its
`file:line:col: ` prefix. Files in fixtures/good/ and the example topologies must load.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netplan.errors import Problem, TopologyError
from netplan.topology.loader import load_topology
from netplan.topology.model import Topology
from netplan.topology.names import bridge_name

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXAMPLES = Path(__file__).parents[2] / "topologies"
EXPECT = re.compile(r"# expect: (?:(\d+):(\d+)|-) (.+)")


def expectations(path: Path) -> list[tuple[int, int, str]]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = EXPECT.fullmatch(line)
        if match:
            row, column, text = match.groups()
            found.append((int(row or 0), int(column or 0), text))
    return found


def reported(problem: Problem) -> tuple[int, int, str]:
    where = f"{problem.file}:{problem.line}:{problem.column}" if problem.line else problem.file
    return problem.line, problem.column, problem.render().removeprefix(where + ": ")


def cases(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def test_there_are_enough_bad_fixtures() -> None:
    assert len(cases(FIXTURES / "bad")) >= 30


@pytest.mark.parametrize("path", cases(FIXTURES / "bad"), ids=lambda p: p.stem)
def test_bad_topology_reports_every_expected_problem(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect:' lines"
    with pytest.raises(TopologyError) as raised:
        load_topology(path)
    problems = raised.value.problems
    assert all(p.file == str(path) for p in problems)
    got = [reported(p) for p in problems]
    assert [(line, col) for line, col, _ in got] == [(line, col) for line, col, _ in expected]
    for (_, _, text), (_, _, want) in zip(got, expected, strict=True):
        assert want in text


@pytest.mark.parametrize(
    "path",
    [*cases(FIXTURES / "good"), *cases(EXAMPLES)],
    ids=lambda p: p.parent.name + "/" + p.stem,
)
def test_good_topology_loads(path: Path) -> None:
    assert isinstance(load_topology(path), Topology)


def test_rendered_line_has_file_position_path_message_and_hint() -> None:
    path = FIXTURES / "bad" / "bad-subnet.yaml"
    with pytest.raises(TopologyError) as raised:
        load_topology(path)
    assert raised.value.lines()[0] == (
        f"{path}:8:13: networks.front.subnet: '10.0.0.0/33' is not a valid IPv4 network "
        "(hint: write it in CIDR form, e.g. 10.0.0.0/24)"
    )


def test_list_and_mapping_forms_mean_the_same() -> None:
    listed = load_topology(FIXTURES / "good" / "list-form.yaml")
    assert listed.containers["web"].networks.keys() == {"front", "back"}
    assert all(a.ipv4 is None and not a.aliases for a in listed.containers["web"].networks.values())
    mapped = load_topology(FIXTURES / "good" / "mapping-form.yaml")
    web = mapped.containers["web"].networks
    assert str(web["front"].ipv4) == "10.20.0.10"
    assert web["front"].mac == "02:00:0a:14:00:0a"
    assert web["front"].aliases == ["www", "frontend"]
    assert web["back"].ipv4 is None


def test_network_modes_load_as_written() -> None:
    modes = load_topology(FIXTURES / "good" / "network-modes.yaml").containers
    assert modes["isolated"].network_mode == "none"
    assert modes["on-host"].network_mode == "host"
    assert modes["sidecar-of-sidecar"].shares_with == "sidecar"
    assert modes["bare"].network_mode is None and not modes["bare"].networks


def test_aliases_and_merge_keys_expand() -> None:
    topology = load_topology(FIXTURES / "good" / "anchors.yaml")
    assert topology.networks["back"].mtu == 1400
    assert str(topology.networks["back"].subnet) == "10.50.1.0/24"
    assert topology.containers["api"] == topology.containers["web"]


def test_default_bridge_names() -> None:
    topology = load_topology(FIXTURES / "good" / "long-names.yaml")
    names = {n: bridge_name(topology.name, n, net) for n, net in topology.networks.items()}
    assert names["twelve-chars"] == "br-twelve-chars"
    assert re.fullmatch(r"br-[0-9a-f]{12}", names["thirteen-char"])
    assert len(set(names.values())) == len(names)
