"""A small structural check of the Mermaid flowcharts netplan writes.

No Mermaid parser runs offline here (mermaid-cli needs node and a browser), so this checks
the subset of the flowchart grammar netplan uses: a `flowchart LR` header, balanced
`subgraph ... end`, node lines with a known shape and quoted label, edges between
declared nodes with a known arrow, and `classDef`/`class`/`linkStyle` lines that refer to
what exists.
"""

from __future__ import annotations

import re

ID = r"[A-Za-z][A-Za-z0-9_]*"
LABEL = r'"[^"]*"'
NODE = re.compile(rf'({ID})(\[{LABEL}\]|\(\[{LABEL}\]\)|>{LABEL}\])')
EDGE = re.compile(rf'({ID}) (---|-\.-|<==>|-->)(\|{LABEL}\|)? ({ID})')
SUBGRAPH = re.compile(rf'subgraph {ID}\[{LABEL}\]')
CLASSDEF = re.compile(rf'classDef {ID} [a-z-]+:[^,\s]+( [^,\s]+)*(,[a-z-]+:[^,\s]+( [^,\s]+)*)*')
CLASS = re.compile(rf'class ({ID}(,{ID})*) ({ID})')
LINKSTYLE = re.compile(r'linkStyle (\d+(,\d+)*) .+')


def mermaid_problems(text: str) -> list[str]:
    """Each line that does not fit the grammar, or refers to something undeclared."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "flowchart LR":
        return ["the first line must be `flowchart LR`"]
    problems: list[str] = []
    nodes: set[str] = set()
    classes: set[str] = set()
    edges = depth = 0
    for number, line in enumerate(lines[1:], start=2):
        if SUBGRAPH.fullmatch(line):
            depth += 1
        elif line == "end":
            depth -= 1
            if depth < 0:
                problems.append(f"line {number}: `end` without `subgraph`")
        elif match := NODE.fullmatch(line):
            nodes.add(match[1])
        elif match := EDGE.fullmatch(line):
            edges += 1
            problems += [f"line {number}: undeclared node {n}" for n in (match[1], match[4])
                         if n not in nodes]
        elif CLASSDEF.fullmatch(line):
            classes.add(line.split()[1])
        elif match := CLASS.fullmatch(line):
            problems += [f"line {number}: undeclared node {n}" for n in match[1].split(",")
                         if n not in nodes]
            if match[3] not in classes:
                problems.append(f"line {number}: undefined class {match[3]}")
        elif match := LINKSTYLE.fullmatch(line):
            problems += [f"line {number}: no link {n}" for n in match[1].split(",")
                         if int(n) >= edges]
        else:
            problems.append(f"line {number}: not flowchart syntax: {line}")
    if depth:
        problems.append("unbalanced subgraph/end")
    return problems
