"""`netplan graph`: from the file alone, or (`--observed`) from what the hosts have."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from netplan import pipeline
from netplan.agent.state import HostState
from netplan.compile import assign_addresses, compile_topology
from netplan.drivers.overlay import assign_vnis
from netplan.graph.build import Graph, build_graph, mark_observed
from netplan.outline import Outline
from netplan.output_file import write_whole
from netplan.subnet_pools import with_pool_subnets
from netplan.topology.model import Topology


def file_graph(topology: Topology) -> Graph:
    """The topology as written: no host is contacted (addresses as on empty hosts)."""
    empty = {host: HostState() for host in topology.hosts}
    return _graph(topology, empty)


def observed_graph(topology: Topology, outline: Outline, hosts: pipeline.Hosts) -> Graph:
    """The topology as the hosts have it: the planner's diff marks what is missing,
    extra or drifted, and addresses are the ones the hosts hold."""
    observed = pipeline.observe(outline, hosts)
    graph = _graph(topology, observed)
    mark_observed(graph, pipeline.plan(compile_topology(topology, observed), observed))
    for name in hosts.failed:
        graph.notes.setdefault(name, []).append("not reached")
    return graph


def _graph(topology: Topology, observed: Mapping[str, HostState]) -> Graph:
    topology = with_pool_subnets(topology, observed)  # its labels name every subnet
    return build_graph(topology, assign_addresses(topology, observed),
                       assign_vnis(topology, observed))


def write(data: bytes, output: Path | None) -> None:
    if output is None:
        import sys

        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_whole(output, data, "drawing")
