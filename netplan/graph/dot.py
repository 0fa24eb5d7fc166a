"""A graph as Graphviz DOT text, written by netplan itself (no graphviz library)."""

from __future__ import annotations

from netplan.graph.build import Edge, Graph, Node, Status

SHAPES = {"network": "box", "container": "ellipse", "port": "cds"}
FILLS = {"network": "#dbe9f6", "container": "#fff4d6", "port": "#e6f4e6"}
STYLES: dict[Status, str] = {
    "ok": "",
    "missing": ', color="red", fontcolor="red", style="dashed"',
    "extra": ', color="red", fontcolor="red", style="dotted"',
    "drifted": ', color="red", fontcolor="red", penwidth=2',
}
EDGE_STYLES = {
    "attach": "",
    "share": ', style="dashed", arrowhead="none"',
    "tunnel": ', style="bold", color="#1f6fb2", dir="both", arrowhead="normal", arrowtail="normal"',
    "publish": ', color="#2e8b57"',
}
SUFFIX: dict[Status, str] = {"ok": "", "missing": "\n(missing)", "extra": "\n(extra)",
                             "drifted": "\n(drifted)"}


def quote(text: str) -> str:
    """A DOT string: double-quoted, with `"` and `\\` escaped and newlines as `\\n`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def render_dot(graph: Graph) -> str:
    lines = [f"digraph {quote(graph.title)} {{",
             "  graph [rankdir=LR, fontname=\"Helvetica\", compound=true];",
             "  node [fontname=\"Helvetica\", fontsize=10];",
             "  edge [fontname=\"Helvetica\", fontsize=9, arrowhead=\"none\"];"]
    for index, (host, nodes) in enumerate(graph.clusters.items()):
        lines.append(f"  subgraph cluster_{index} {{")
        notes = "".join(f"\n{note}" for note in graph.notes.get(host, []))
        lines.append(f"    label={quote('host ' + host + notes)}; style=\"rounded\";")
        if notes:
            lines.append("    color=\"red\"; fontcolor=\"red\";")
        lines += [f"    {_node(node)}" for node in nodes]
        lines.append("  }")
    lines += [f"  {_edge(edge)}" for edge in graph.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node(node: Node) -> str:
    style = STYLES[node.status] or ', style="filled"'
    if node.status == "ok":
        style += f', fillcolor="{FILLS[node.kind]}"'
    label = quote(node.label + SUFFIX[node.status])
    return f"{quote(node.id)} [label={label}, shape={SHAPES[node.kind]}{style}];"


def _edge(edge: Edge) -> str:
    style = EDGE_STYLES[edge.kind] + STYLES[edge.status]
    label = edge.label + SUFFIX[edge.status].replace("\n", " ")
    return f"{quote(edge.source)} -> {quote(edge.target)} [label={quote(label)}{style}];"
