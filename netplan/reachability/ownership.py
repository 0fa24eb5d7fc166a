"""Whether the containers a check starts in or aims at are the topology's on their
hosts, judged from the observation verify makes anyway (one per host, whatever the
number of checks): a check with one that is not makes no probe, and says why in the
words the agent uses when a probe enters such a namespace (netplan/agent/netns_owner.py).

A container's namespace is the topology's when the observation owns it (the marker on
its `lo`); a `network_mode: host` container has none, and is the topology's where the
topology is applied (the last-applied record's roster names the host). Pure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from netplan.agent.netns_owner import judge, missing, not_applied
from netplan.agent.resources import Netns
from netplan.agent.state import HostState
from netplan.reachability.resolve import PlannedCheck
from netplan.topology.model import ReachabilityCheck, Topology
from netplan.topology.reach import parse_source, parse_target
from netplan.topology.reach_checks import namespace_owner


def refusals(topology: Topology, file: str, planned: list[PlannedCheck],
             observed: Mapping[str, HostState]) -> dict[int, str]:
    """By check index, why a check must not run: the first container it involves that is
    not the topology's. A container on a host that was not observed is left to the
    host's own failure."""
    found: dict[int, str] = {}
    for item in planned:
        for container in _containers(item.check):
            reason = not_the_topologys(topology, file, container, observed)
            if reason is not None:
                found[item.index] = reason
                break
    return found


def _containers(check: ReachabilityCheck) -> Iterator[str]:
    """The container a check starts in, then the one it aims at (if they are)."""
    source, target = parse_source(check.source), parse_target(check.to)
    if not source.is_host:
        yield source.name
    if target.container is not None:
        yield target.container


def not_the_topologys(topology: Topology, file: str, container: str,
                      observed: Mapping[str, HostState]) -> str | None:
    """Why `container` is not the topology's on its host, as observed; None when it is
    (or its host was not observed)."""
    host = topology.host_of_container(container)
    state = observed.get(host)
    if state is None:
        return None
    name = namespace_owner(topology, container)
    if name is None:
        applied = host in state.facts.roster
        return None if applied else str(not_applied(topology.name, host, file))
    if Netns(name).key in state.resources:
        return None
    owners = state.facts.namespace_owners
    refusal = (judge(topology.name, name, owners[name] or None) if name in owners
               else missing(topology.name, name))
    return None if refusal is None else str(refusal)
