"""`load_topology`: file → YAML with positions → model → cross-file checks.

Every problem of a stage is collected before stopping; a later stage runs only when the
earlier ones found nothing (checks need a valid structure to look across).
"""

from __future__ import annotations

import functools
import os
from typing import Any

from netplan.errors import Problem, TopologyError, log_warnings
from netplan.topology.checks import check_topology, topology_warnings
from netplan.topology.document import Document, parse_document
from netplan.topology.list_forms import index_list_items
from netplan.topology.model import Topology
from netplan.topology.positions import Positions
from netplan.topology.source import read_source
from netplan.topology.validation import validate


def load_topology(path: str | os.PathLike[str]) -> Topology:
    """The topology in `path`, its warnings logged. Raises TopologyError carrying every
    problem found."""
    topology, warnings = load_with_warnings(path)
    log_warnings(warnings)
    return topology


def load_with_warnings(path: str | os.PathLike[str]) -> tuple[Topology, list[str]]:
    """The topology in `path` and its warnings, each one line that names its place."""
    document = _document(read_source(path), os.fspath(path))
    _refuse_a_saved_plan(document.data, os.fspath(path))
    topology, problems = validate(document.data, document.positions)
    problems = document.problems + problems
    if topology is not None and not problems:
        problems = [document.positions.locate(p) for p in check_topology(topology)]
    if problems or topology is None:
        raise TopologyError(_at_most(sorted(problems, key=lambda p: (p.line, p.column))))
    warnings = [document.positions.locate(w).render() for w in topology_warnings(topology)]
    return topology, warnings


def _refuse_a_saved_plan(data: Any, path: str) -> None:
    """A saved plan given where a topology file is expected (`netplan check plan.json`):
    one problem saying so, not one per field a topology does not have."""
    if not isinstance(data, dict) or "kind" not in data:
        return  # no topology has a `kind`: gate.saved is imported only for a plan's
    from netplan.gate.saved import is_plan_document

    if is_plan_document(data):
        made_from = f" ({data['file']})" if isinstance(data.get("file"), str) else ""
        raise TopologyError([Problem(
            "this is a saved plan (netplan plan --out), not a topology file",
            hint=f"run it with `netplan apply {path}`; other commands take the topology "
                 f"file it was made from{made_from}",
            file=path,
        )])


MAX_PROBLEMS = 100
"""Problems reported, at most: every problem is collected, but a file with 10,000 duplicate
keys would otherwise print 10,000 lines."""


def _at_most(problems: list[Problem]) -> list[Problem]:
    """The first MAX_PROBLEMS problems, then one line counting the others."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    first = problems[:MAX_PROBLEMS]
    return [
        *first,
        Problem(
            f"and {len(problems) - MAX_PROBLEMS:,} more problems",
            hint="fix the ones above first",
            file=first[0].file,
        ),
    ]


def load_positions(path: str | os.PathLike[str]) -> Positions:
    """Where each value of the file was written, for reports that point into the file
    (check's GitHub annotations). Raises TopologyError if the file cannot be read."""
    return _document(read_source(path), os.fspath(path)).positions


@functools.lru_cache(maxsize=1)
def _document(text: str, path: str) -> Document:
    """The parsed file, kept for the next call with the same text: check loads the
    topology, then asks where its values were written (0.1 s to parse again at N=500)."""
    document = parse_document(text, path)
    index_list_items(document.data, document.positions)
    return document

