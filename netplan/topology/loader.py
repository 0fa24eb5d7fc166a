"""`load_topology`: file → YAML with positions → model → cross-file checks.

Every problem of a stage is collected before stopping; a later stage runs only when the
earlier ones found nothing (checks need a valid structure to look across).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from netplan.errors import TopologyError
from netplan.topology.checks import check_topology, topology_warnings
from netplan.topology.document import parse_document
from netplan.topology.model import Topology
from netplan.topology.positions import Positions, child
from netplan.topology.source import read_source
from netplan.topology.validation import validate


def load_topology(path: str | os.PathLike[str]) -> Topology:
    """The topology in `path`. Raises TopologyError carrying every problem found."""
    document = parse_document(read_source(path), os.fspath(path))
    _index_network_lists(document.data, document.positions)
    topology, problems = validate(document.data, document.positions)
    problems = document.problems + problems
    if topology is not None and not problems:
        problems = [document.positions.locate(p) for p in check_topology(topology)]
    if problems or topology is None:
        raise TopologyError(sorted(problems, key=lambda p: (p.line, p.column)))
    for warning in topology_warnings(topology):  # to stderr, also without logging set up
        located = document.positions.locate(warning)
        logging.getLogger("netplan").warning("warning: %s", located.render())
    return topology


def _index_network_lists(data: dict[str, Any], positions: Positions) -> None:
    """The model turns `networks: [front]` into `{front: {}}`: make the path
    `containers.web.networks.front` point at the list item `front`."""
    containers = data.get("containers")
    if not isinstance(containers, dict):
        return
    for name, container in containers.items():
        networks = container.get("networks") if isinstance(container, dict) else None
        if isinstance(networks, list):
            path = child(child("containers", name), "networks")
            for index, network in enumerate(networks):
                if isinstance(network, str):
                    positions.copy(child(path, network), child(path, index))
