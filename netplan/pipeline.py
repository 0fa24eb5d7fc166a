"""The stages every command is made of: load → connect → observe → plan → apply → verify.

`plan`, `check`, `apply`, post-apply verification and `destroy` (desired = nothing) are
all the same diff. Hosts are connected, observed, applied and verified in parallel; a
host that fails at any stage is set aside with its error and the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from netplan.agent.state import PROTOCOL_VERSION, HostState
from netplan.compile import compile_topology
from netplan.errors import AgentError, ConflictError, NetplanError, VerifyError
from netplan.fanout import DEFAULT_FORKS, fan_out
from netplan.plan.changes import HostPlan
from netplan.plan.order import plan_host
from netplan.topology import Topology, load_topology
from providers import connectors
from providers.base import HostConnection

Result = TypeVar("Result")


@dataclass(frozen=True)
class Failure:
    stage: str
    """connect, observe, apply or verify."""
    error: NetplanError


class Hosts(dict[str, HostConnection]):
    """The open connections of one command, by host name; closes them all on exit.

    A host that fails leaves for `failed`, with the stage and the error."""

    def __init__(self, forks: int = DEFAULT_FORKS) -> None:
        super().__init__()
        self.forks = forks
        self.failed: dict[str, Failure] = {}

    def each(self, stage: str, work: Callable[[HostConnection], Result]) -> dict[str, Result]:
        """`work` on every host still in, up to `forks` at once; the results by host."""
        results, errors = fan_out(self, work, self.forks)
        for name, error in errors.items():
            self.fail(name, stage, error)
        return results

    def fail(self, name: str, stage: str, error: NetplanError) -> None:
        self.failed[name] = Failure(stage, error)
        connection = self.pop(name, None)
        if connection is not None:
            connection.close()

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


def connect_hosts(
    topology: Topology, provider: str, inventory: Path | None = None, forks: int = DEFAULT_FORKS
) -> Hosts:
    """Every host's connection, opened in parallel; the unreachable ones are in `failed`."""
    hosts = Hosts(forks)
    opened, errors = fan_out(connectors(provider, list(topology.hosts), inventory), _open, forks)
    hosts.update(opened)
    for name, error in errors.items():
        hosts.failed[name] = Failure("connect", error)
    return hosts


def _open(connect: Callable[[], HostConnection]) -> HostConnection:
    return connect()


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
    def one(host: HostConnection) -> HostState:
        request: dict[str, Any] = {"op": "observe", "topology": topology.name}
        underlay = underlay_of(topology, host)
        if underlay is not None:
            request["underlay"] = underlay
        answer = call(host, request)
        return HostState.from_json(answer["state"])

    return hosts.each("observe", one)


def underlay_of(topology: Topology, host: HostConnection) -> str | None:
    """The host's underlay as the topology gives it, else as its provider knows it."""
    spec = topology.hosts.get(host.name)
    return (spec.underlay if spec is not None else None) or host.underlay


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

    def one(host: HostConnection) -> None:
        steps = [step.to_json() for step in plans[host.name].steps]
        if steps:
            call(host, {"op": "apply", "topology": topology.name, "steps": steps})

    hosts.each("apply", one)


def verify(topology: Topology, hosts: Hosts, destroy: bool = False) -> None:
    """Re-observe; the diff must now be empty: a host where it is not fails with what differs."""
    for name, host_plan in plan(topology, observe(topology, hosts), destroy).items():
        if not host_plan.empty:
            hosts.fail(name, "verify", VerifyError(name, host_plan.differences()))
