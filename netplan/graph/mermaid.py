"""A graph as a Mermaid flowchart (GitHub renders ```mermaid blocks in markdown).

Mermaid ids may only hold letters, digits and `_`, so nodes get `n0`, `n1` ...; labels are
quoted with `"` written as `#quot;`, and line breaks as `<br/>`.
"""

from __future__ import annotations

from netplan.graph.build import Graph, Status

SHAPES = {"network": ('["', '"]'), "container": ('(["', '"])'), "port": ('>"', '"]')}
CLASSES: dict[Status, str] = {
    "missing": "stroke:#d00,stroke-width:2px,stroke-dasharray:5 5,color:#d00",
    "extra": "stroke:#d00,stroke-width:2px,stroke-dasharray:2 2,color:#d00",
    "drifted": "stroke:#d00,stroke-width:3px,color:#d00",
}
ARROWS = {"attach": "---", "share": "-.-", "tunnel": "<==>", "publish": "-->"}


def label(text: str) -> str:
    return (text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")
            .replace(">", "#gt;").replace("\n", "<br/>"))


def render_mermaid(graph: Graph) -> str:
    ids = {node.id: f"n{i}" for i, node in enumerate(
        n for nodes in graph.clusters.values() for n in nodes)}
    lines = ["flowchart LR"]
    for index, (host, nodes) in enumerate(graph.clusters.items()):
        notes = "".join(f"<br/>{label(note)}" for note in graph.notes.get(host, []))
        lines.append(f'  subgraph host{index}["host {label(host)}{notes}"]')
        for node in nodes:
            opening, closing = SHAPES[node.kind]
            suffix = "" if node.status == "ok" else f"<br/>({node.status})"
            lines.append(f"    {ids[node.id]}{opening}{label(node.label)}{suffix}{closing}")
        lines.append("  end")
    red: list[int] = []
    for number, edge in enumerate(graph.edges):
        text = edge.label + ("" if edge.status == "ok" else f" ({edge.status})")
        arrow = ARROWS[edge.kind] if edge.status == "ok" else "-.-"
        middle = f'|"{label(text)}"|' if text else ""
        lines.append(f"  {ids[edge.source]} {arrow}{middle} {ids[edge.target]}")
        if edge.status != "ok":
            red.append(number)
    for status, style in CLASSES.items():
        marked = [ids[n.id] for nodes in graph.clusters.values() for n in nodes
                  if n.status == status]
        if marked:
            lines.append(f"  classDef {status} {style}")
            lines.append(f"  class {','.join(marked)} {status}")
    if red:
        lines.append(f"  linkStyle {','.join(map(str, red))} stroke:#d00,stroke-width:2px")
    return "\n".join(lines) + "\n"
