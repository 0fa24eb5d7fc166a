"""`netplan graph`: every example drawn as DOT (parsed by Graphviz when installed) and
Mermaid (checked by a structural validator); drift marked from a plan."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netplan.agent.resources import Netns, Veth
from netplan.graph.build import build_graph, mark_observed
from netplan.graph.command import file_graph
from netplan.graph.dot import quote, render_dot
from netplan.graph.mermaid import render_mermaid
from netplan.graph.render import GraphFormat, format_of
from netplan.plan.changes import Change, HostPlan
from netplan.topology.loader import load_topology
from tests.unit.mermaid_syntax import mermaid_problems

EXAMPLES = sorted((Path(__file__).parents[2] / "topologies").glob("*.yaml"))
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


@needs_dot
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_dot_of_every_example_is_parsed_by_graphviz(path: Path) -> None:
    dot = render_dot(file_graph(load_topology(path)))
    done = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.rstrip().endswith("</svg>")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_mermaid_of_every_example_is_flowchart_syntax(path: Path) -> None:
    assert mermaid_problems(render_mermaid(file_graph(load_topology(path)))) == []


def test_the_validator_catches_what_it_should() -> None:
    assert mermaid_problems("graph TD\n") == ["the first line must be `flowchart LR`"]
    bad = 'flowchart LR\n  subgraph h["x"]\n    n0["a"]\n  n0 --- n9\n  n0 -> n0\n'
    assert mermaid_problems(bad) == ["line 4: undeclared node n9",
                                     "line 5: not flowchart syntax: n0 -> n0",
                                     "unbalanced subgraph/end"]


def test_overlay_shows_hosts_addresses_and_the_tunnel_with_its_vni() -> None:
    dot = render_dot(file_graph(load_topology(EXAMPLES[0].parent / "overlay.yaml")))
    assert 'subgraph cluster_0 {\n    label="host hostA"' in dot
    assert '"ctr:web" -> "net:hostA:overlay" [label="10.88.0.1"]' in dot
    assert '"net:hostA:overlay" -> "net:hostB:overlay" [label="VXLAN VNI 42"' in dot


def test_published_ports_are_drawn() -> None:
    mermaid = render_mermaid(file_graph(load_topology(EXAMPLES[0].parent / "published-web.yaml")))
    assert '>"published *:8080/tcp"]' in mermaid
    assert '-->|"to 80/tcp"|' in mermaid


def test_labels_are_escaped() -> None:
    assert quote('a "b"\\c\nd') == '"a \\"b\\"\\\\c\\nd"'


def test_observed_drift_is_marked_missing_extra_and_drifted() -> None:
    topology = load_topology(EXAMPLES[0].parent / "isolated-bridges.yaml")
    graph = build_graph(topology, {}, {})
    veth = Veth("blue1", "eth0", "vethx", "br-blue", "blue1", "blue")
    gone = Netns("old")
    plan = HostPlan("local", changes=[
        Change("create", veth.key, veth, None),
        Change("delete", gone.key, None, gone),
        Change("update", "netns:green1", Netns("green1"), Netns("green1", lo_up=False)),
    ])
    mark_observed(graph, {"local": plan})
    dot = render_dot(graph)
    assert '"ctr:blue1" -> "net:local:blue" [label=" (missing)", color="red"' in dot
    assert '"ctr:old" [label="old\\n(extra)"' in dot
    assert '"ctr:green1" [label="green1\\n(drifted)"' in dot
    mermaid = render_mermaid(graph)
    assert "classDef extra" in mermaid and "linkStyle 0 stroke:#d00" in mermaid
    assert mermaid_problems(mermaid) == []


@pytest.mark.parametrize(("output", "fmt"), [
    (None, GraphFormat.dot), (Path("t.svg"), GraphFormat.svg), (Path("T.PNG"), GraphFormat.png),
    (Path("t.mmd"), GraphFormat.mermaid), (Path("t.gv"), GraphFormat.dot),
    (Path("t.txt"), GraphFormat.dot),
])  # fmt: skip
def test_the_output_files_suffix_chooses_the_format(output: Path | None, fmt: GraphFormat) -> None:
    """`graph -o topology.svg` draws an SVG, as its name says (was DOT text in a .svg)."""
    assert format_of(output) is fmt
