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
from netplan.topology import wording
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


@pytest.mark.parametrize("path", cases(FIXTURES / "bad"), ids=lambda p: p.stem)
def test_every_problem_says_what_to_do(path: Path) -> None:
    """Every problem is one line with its place and a hint: none of a bad file lacks one."""
    with pytest.raises(TopologyError) as raised:
        load_topology(path)
    assert [p.render() for p in raised.value.problems if not p.hint] == []


HINTS = [
    # A field's range, and its default when it may be left out.
    ("mtu-bounds", "networks.small.mtu", "use a value from 68 to 65535, or leave `mtu:` out"),
    ("overlay-fields", "networks.ov.port",
     "use a value from 1 to 65535, or leave `port:` out for 4789"),
    ("typed-values", "networks.ov.vni", "write a whole number from 1 to 16777215"),
    # The choices of a field.
    ("macvlan-fields", "networks.odd.mode",
     "write one of these, or leave `mode:` out for 'bridge'"),
    # A value of another shape than the field's.
    ("wrong-types", "name", "write one text value, e.g. lab"),
    ("wrong-types", "containers.web.networks.front.aliases", "write it as a list: [www]"),
    ("wrong-types", "containers.db", "write a mapping: `key: value` lines indented below it"),
    # The model's own rules (FieldError).
    ("bad-names", "networks.-front", "rename it, e.g. 'front'"),
    ("bad-names", "networks.-front.bridge", "shorten it to 15 bytes or fewer"),
    ("bad-names", "containers.", "choose a name that starts with a letter or digit, e.g. 'web-1'"),
    ("overlay-fields", "hosts.hostA.underlay",
     "write the address without its prefix length: 192.168.56.11"),
    ("overlay-fields", "networks.ov.hosts", "remove the second 'hostA'"),
    ("network-mode-values", "containers.a.network_mode",
     "write one of these, or leave `network_mode:` out and list the container's `networks:`"),
    ("process-fields", "containers.env.env.1BAD", "rename it, e.g. '_1BAD'"),
    ("process-fields", "containers.relative.workdir", "did you mean '/srv'?"),
    ("process-fields", "containers.relative.volumes[1]", "did you mean '/srv:/data'?"),
    ("process-fields", "containers.relative.volumes[2]",
     "write /srv:/data:ro, or /srv:/data to mount it read-write"),
    ("published-port-forms", "containers.web.publish[2]",
     "write [host_ip:]host_port:container_port[/tcp|udp|sctp], one port each, e.g. 8080:80/tcp"),
    # Checks across the file.
    ("static-addresses", "containers.a.networks.front.ipv4",
     "give an address inside 10.0.0.0/24, or leave `ipv4:` out to have one assigned"),
    ("static-addresses", "containers.b.networks.front.ipv4",
     "give another address inside 10.0.0.0/24, or leave `ipv4:` out to have one assigned"),
    ("static-addresses", "containers.c.networks.ranged.ipv4",
     "give each container an address of its own, or leave `ipv4:` out to have one assigned"),
    # Reading the YAML.
    ("bad-tagged-scalar", "", "write a value the tag !!int takes, or remove the tag"),
    ("recursive-alias", "", "use *all only outside the value &all names"),
    ("non-string-keys", "containers", "write a name as the key"),
    ("top-level-list", "",
     "write the topology as unindented `key: value` lines, starting with `name: <topology name>`"),
]
"""One problem of each kind that had no hint before: the hint its kind gives."""


@pytest.mark.parametrize(("fixture", "path", "hint"), HINTS,
                         ids=[f"{fixture}:{path}" for fixture, path, _ in HINTS])  # fmt: skip
def test_the_hint_comes_from_the_kind_of_problem(fixture: str, path: str, hint: str) -> None:
    with pytest.raises(TopologyError) as raised:
        load_topology(FIXTURES / "bad" / f"{fixture}.yaml")
    assert [p.hint for p in raised.value.problems if p.path == path][:1] == [hint]


@pytest.mark.parametrize(("name", "tidied"), [
    ("my lab", "my-lab"),
    ("--help", "help"),
    ("../../etc", "etc"),
    ("line\nbreak", "line-break"),
    ("\uff57eb", "web"),  # fullwidth w
    ("\u0430pp", "app"),  # Cyrillic a
    ("\u202ersu", "rsu"),  # right-to-left override
    ("..", ""),
    ("a-bridge-name-too-long", "a-bridge-name-t"),
])
def test_a_refused_name_is_hinted_as_one_the_rules_allow(name: str, tidied: str) -> None:
    assert wording.tidied(name, 15) == tidied


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
