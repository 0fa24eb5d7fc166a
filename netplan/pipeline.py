"""The stages every command is made of: load → connect → observe → plan → apply → verify.

`plan`, `check`, `apply`, post-apply verification and `destroy` (desired = nothing) are
all the same diff.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from netplan.agent.state import PROTOCOL_VERSION, HostState
from netplan.compile import compile_topology
from netplan.errors import AgentError, ConflictError, VerifyError
from netplan.plan.changes import HostPlan
from netplan.plan.order import plan_host
from netplan.topology import Topology, load_topology
from providers import connect
from providers.base import HostConnection


class Hosts(dict[str, HostConnection]):
    """The open connections of one command, by host name; closes them all on exit."""

    def close(self) -> None:
        for connection in self.values():
            connection.close()

    def __enter__(self) -> Hosts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load(path: Path) -> Topology:
    return load_topology(path)


def bare_topology(name: str) -> Topology:
    """A topology with only a name, for commands that read what the hosts have (show)."""
    return Topology(name=name)


def connect_hosts(topology: Topology, provider: str) -> Hosts:
    return Hosts(connect(provider, list(topology.hosts)))


def call(host: HostConnection, request: dict[str, Any]) -> dict[str, Any]:
    answer = host.call({"version": PROTOCOL_VERSION, **request})
    error = answer.get("error")
    if error:
        if "resource" in error:
            what = f"cannot {error['op']} {error['resource']}"
            raise AgentError(host.name, what, error["reason"])
        raise AgentError(host.name, "agent", error["message"])
    return answer


def observe(topology: Topology, hosts: Hosts) -> dict[str, HostState]:
    return {
        name: HostState.from_json(call(host, {"op": "observe", "topology": topology.name})["state"])
        for name, host in hosts.items()
    }


def plan(
    topology: Topology, observed: Mapping[str, HostState], destroy: bool = False
) -> dict[str, HostPlan]:
    if destroy:
        desired = {host: HostState() for host in observed}
    else:
        desired = compile_topology(topology, observed)
    return {host: plan_host(host, desired[host], observed[host]) for host in observed}


def refuse_conflicts(plans: Mapping[str, HostPlan]) -> None:
    """Nothing is changed anywhere if any host has an object in the way."""
    for host, host_plan in plans.items():
        if host_plan.conflicts:
            raise ConflictError(host, [(c.what, c.owner) for c in host_plan.conflicts])


def execute(topology: Topology, plans: Mapping[str, HostPlan], hosts: Hosts) -> None:
    refuse_conflicts(plans)
    for name, host_plan in plans.items():
        if host_plan.steps:
            steps = [step.to_json() for step in host_plan.steps]
            call(hosts[name], {"op": "apply", "topology": topology.name, "steps": steps})


def verify(topology: Topology, hosts: Hosts, destroy: bool = False) -> None:
    """Re-observe; the diff must now be empty, or say what still differs."""
    for name, host_plan in plan(topology, observe(topology, hosts), destroy).items():
        if not host_plan.empty:
            raise VerifyError(name, host_plan.differences())
