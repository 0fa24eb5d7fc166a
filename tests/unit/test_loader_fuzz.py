"""Never a traceback: any bytes, any YAML, any data shape gives a Topology or a TopologyError
whose every problem is one line naming the file, at a line and column that exist in it.

The number of inputs per test is set by tests/fuzzing.py (NETPLAN_FUZZ=ci|long); `make fuzz`
runs the long profile with `--hypothesis-show-statistics`, which prints how many inputs
each test tried and the share of each outcome (the `event`s below).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import event, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from netplan.agent.api import handle
from netplan.agent.state import PROTOCOL_VERSION
from netplan.cli import app
from netplan.errors import TopologyError
from netplan.topology.loader import load_topology
from netplan.topology.model import NAME_PATTERN, Topology
from tests.fuzzing import fuzz
from tests.topology_strategies import topologies

FIELDS = [
    "version", "name", "hosts", "networks", "containers", "subnet", "ip_range", "gateway",
    "bridge", "mtu", "host", "driver", "ipv4", "mac", "aliases", "network_mode", "front",
    "web", "container:web", "10.0.0.0/24", "10.0.0.5", "<<", "overlay", "macvlan", "publish",
    "internal", "icc", "nat", "vni", "hosts", "parent", "mode", "8080:80", "checks", "from",
    "to", "command", "env", "none", "host", "bridge",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.sampled_from(FIELDS), st.text()
)
KEYS = st.one_of(st.sampled_from(FIELDS), st.text(max_size=20))
DATA = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=30,
)
YAML_PUNCTUATION = st.text(
    alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#,?%@ \n\t1.~<\\")), max_size=120
)


def outcome(path: Path, content: bytes) -> str:
    """Load `content` from `path`: "valid" or "clean error", else the test fails."""
    path.write_bytes(content)
    try:
        load_topology(path)
    except TopologyError as exc:
        assert exc.problems
        lines = len(content.decode(errors="replace").splitlines()) + 1  # \r, U+2028 too
        for problem in exc.problems:
            rendered = problem.render()
            assert problem.file == str(path)
            assert rendered.startswith(f"{path}:") or rendered.startswith(f"{path} ")
            assert rendered.isprintable(), rendered  # one line, no escape sequences
            assert 0 <= problem.line <= lines and (problem.column >= 1) == (problem.line >= 1)
        event("clean error")
        return "clean error"
    event("valid")
    return "valid"


@fuzz(30)
@given(content=st.binary(max_size=300))
def test_any_bytes(tmp_path: Path, content: bytes) -> None:
    outcome(tmp_path / "topo.yaml", content)


@fuzz(60)
@given(content=YAML_PUNCTUATION)
def test_yaml_punctuation(tmp_path: Path, content: str) -> None:
    outcome(tmp_path / "topo.yaml", content.encode())


@fuzz(30)
@given(content=st.text(max_size=200))
def test_any_text(tmp_path: Path, content: str) -> None:
    outcome(tmp_path / "topo.yaml", content.encode())


@fuzz(60)
@given(data=st.dictionaries(st.sampled_from(FIELDS), DATA, max_size=6))
def test_any_data_shape(tmp_path: Path, data: dict[str, Any]) -> None:
    outcome(tmp_path / "topo.yaml", yaml.safe_dump({"name": "fuzz", **data}).encode())


@fuzz(40)
@given(
    names=st.lists(st.text(min_size=1, max_size=70), min_size=1, max_size=3),
    where=st.sampled_from(["containers", "networks", "hosts", "name", "alias", "mode", "bridge"]),
)
def test_an_accepted_name_is_one_safe_path_component(
    tmp_path: Path, names: list[str], where: str
) -> None:
    """Whatever the name, if it is accepted it can become /run/netns/NAME, an argv word,
    an interface or nft table name: ASCII letters, digits, '_', '.', '-', not first '-'
    or '.', at most 63 bytes (15 for a bridge)."""
    spec: dict[str, Any] = {"name": "fuzz"}
    net = {"subnet": "10.0.0.0/24"}
    if where == "name":
        spec["name"] = names[0]
    elif where == "containers":
        spec["containers"] = {name: {"network_mode": "none"} for name in names}
    elif where == "networks":
        spec["networks"] = {name: net for name in names}
    elif where == "hosts":
        spec["hosts"] = names
    elif where == "alias":
        spec["networks"] = {"n": net}
        spec["containers"] = {"web": {"networks": {"n": {"aliases": names}}}}
    elif where == "mode":
        spec["containers"] = {"web": {"network_mode": f"container:{names[0]}"}}
    else:
        spec["networks"] = {"n": {**net, "bridge": names[0]}}
    if outcome(tmp_path / "topo.yaml", yaml.safe_dump(spec).encode()) == "valid":
        longest = 15 if where == "bridge" else 63
        for name in names if where in ("containers", "networks", "hosts", "alias") else names[:1]:
            assert NAME_PATTERN.fullmatch(name) and name.isascii()
            assert name not in (".", "..") and len(name.encode()) <= longest


@fuzz(40)
@given(data=topologies())
def test_every_generated_topology_is_valid(tmp_path: Path, data: dict[str, Any]) -> None:
    path = tmp_path / "topo.yaml"
    path.write_text(yaml.safe_dump(data))
    topology = load_topology(path)
    assert isinstance(topology, Topology)
    assert topology.containers.keys() == (data["containers"] or {}).keys()
    event("valid")


@fuzz(40)
@given(data=st.dictionaries(st.sampled_from(FIELDS), DATA, max_size=6))
def test_validate_reports_every_input_without_an_internal_error(
    tmp_path: Path, data: dict[str, Any]
) -> None:
    """`netplan validate` in-process: exit 0 or 1 with `error:` lines; never the CLI's
    last resort (`internal error: ...`, which would mean an exception escaped the loader)."""
    path = tmp_path / "topo.yaml"
    path.write_text(yaml.safe_dump({"name": "fuzz", **data}))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code in (0, 1), result.output
    event(f"exit {result.exit_code}")
    assert "internal error" not in result.output and "Traceback" not in result.output
    if result.exit_code == 1:
        lines = result.output.splitlines()
        assert lines and all(line.startswith(f"error: {path}") for line in lines), lines


@fuzz(3)
@given(data=st.dictionaries(st.sampled_from(FIELDS), DATA, min_size=1, max_size=6))
def test_the_cli_never_shows_a_traceback(data: dict[str, Any]) -> None:
    """A few through `netplan validate` as a user runs it, in a process of its own."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "topo.yaml"
        path.write_text(yaml.safe_dump({"name": "fuzz", **data}))
        result = subprocess.run(
            [sys.executable, "-m", "netplan", "validate", str(path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.returncode in (0, 1), result.stderr
    event(f"exit {result.returncode}")
    if result.returncode == 1:
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith(f"error: {path}") for line in lines), lines


HOSTILE_NAMES = ["../x", "..", ".", "-rf", "a/b", "a b", "a\nb", "\x00", "\u0430pp", "\uff57eb", ""]
"""Path traversal, option injection, whitespace, NUL, Cyrillic U+0430, fullwidth U+FF57."""


def test_the_agent_refuses_a_topology_name_that_is_not_a_name() -> None:
    """The agent runs as root and makes /run/netplan/topologies/<topology>: it checks the
    name again, whatever sent the request."""
    for name in HOSTILE_NAMES:
        reply = handle({"version": PROTOCOL_VERSION, "op": "observe", "topology": name})
        assert reply["ok"] is False, name
        assert "topology" in reply["error"]["message"]


def test_show_refuses_a_hostile_name_in_one_line() -> None:
    """`netplan show --name NAME` builds a topology from the command line, not a file."""
    for name in HOSTILE_NAMES:
        result = CliRunner().invoke(app, ["show", "--name", name])
        assert result.exit_code == 1, name
        (line,) = result.output.splitlines()
        assert line.startswith("error: --name: ") and line.isprintable(), line
        assert line.endswith("(hint: give the `name:` an applied topology's file has)"), line
