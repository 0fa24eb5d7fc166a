"""Graph output in each format; SVG and PNG through Graphviz's `dot` program."""

from __future__ import annotations

import shutil
import subprocess
from enum import StrEnum
from pathlib import Path

from netplan.errors import NetplanError
from netplan.graph.build import Graph
from netplan.graph.dot import render_dot
from netplan.graph.mermaid import render_mermaid


class GraphFormat(StrEnum):
    dot = "dot"
    mermaid = "mermaid"
    svg = "svg"
    png = "png"


SUFFIXES = {".dot": GraphFormat.dot, ".gv": GraphFormat.dot, ".mmd": GraphFormat.mermaid,
            ".mermaid": GraphFormat.mermaid, ".svg": GraphFormat.svg, ".png": GraphFormat.png}
"""The format a drawing's file name asks for (`graph -o topology.svg`)."""


def format_of(output: Path | None) -> GraphFormat:
    """The format `output`'s suffix names; dot for stdout or another suffix."""
    return SUFFIXES.get(output.suffix.lower(), GraphFormat.dot) if output else GraphFormat.dot


def render(graph: Graph, fmt: GraphFormat) -> bytes:
    if fmt is GraphFormat.mermaid:
        return render_mermaid(graph).encode()
    text = render_dot(graph)
    if fmt is GraphFormat.dot:
        return text.encode()
    return run_dot(text, fmt.value)


def run_dot(text: str, output: str) -> bytes:
    """`dot -T<output>` on DOT text; one clear error if graphviz is missing or refuses it."""
    program = shutil.which("dot")
    if program is None:
        raise NetplanError(f"--format {output} needs Graphviz's `dot` program, which is not "
                           "installed (hint: apt-get install graphviz, or use --format dot "
                           "or mermaid)")
    done = subprocess.run([program, f"-T{output}"], input=text.encode(), capture_output=True,
                          timeout=60, check=False)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise NetplanError(f"dot -T{output} failed: {message[0] if message else done.returncode}")
    return done.stdout
