"""Run planned steps in order; a kernel refusal becomes one line naming step and resource."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from netplan.agent import (
    address,
    bridge,
    fdb,
    firewall,
    neighbour,
    netns,
    route,
    sysctl,
    veth,
    vxlan,
)
from netplan.agent.errors import AgentFailure, StepFailed, explain
from netplan.agent.resources import (
    Address,
    Bridge,
    Fdb,
    Neighbour,
    Netns,
    NftTable,
    Resource,
    Route,
    Sysctl,
    Veth,
    Vxlan,
)
from netplan.agent.session import Session
from netplan.agent.state import Step

R = TypeVar("R")


@dataclass(frozen=True)
class Kind(Generic[R]):
    """How one resource kind is changed. `update` is None when nothing is mutable."""

    create: Callable[[Session, R], None]
    update: Callable[[Session, R, tuple[str, ...]], None] | None
    delete: Callable[[Session, R], None]


KINDS: dict[type[Resource], Kind[Any]] = {
    Netns: Kind(netns.create, netns.update, netns.delete),
    Bridge: Kind(bridge.create, bridge.update, bridge.delete),
    Veth: Kind(veth.create, veth.update, veth.delete),
    Address: Kind(address.create, None, address.delete),
    Route: Kind(route.create, route.update, route.delete),
    NftTable: Kind(firewall.create, firewall.update, firewall.delete),
    Sysctl: Kind(sysctl.create, sysctl.update, sysctl.delete),
    Vxlan: Kind(vxlan.create, vxlan.update, vxlan.delete),
    Fdb: Kind(fdb.create, None, fdb.delete),
    Neighbour: Kind(neighbour.create, neighbour.update, neighbour.delete),
}


def run(session: Session, step: Step) -> None:
    resource, kind = step.resource, KINDS[type(step.resource)]
    if step.op == "create":
        kind.create(session, resource)
    elif step.op == "delete":
        kind.delete(session, resource)
    else:
        fixed = ", ".join(sorted(set(step.fields) - resource.MUTABLE))
        if kind.update is None or fixed:
            what = fixed or f"a {resource.KIND}"
            raise ValueError(f"{what} cannot be changed in place: delete and recreate it")
        kind.update(session, resource, step.fields)


def execute(topology: str, steps: Sequence[Step]) -> None:
    """Run `steps` (already in dependency order) for `topology`, whose name goes into
    every ownership marker. Raises StepFailed at the first step the kernel refuses."""
    try:
        session = Session(topology)
    except OSError as error:
        raise AgentFailure(f"cannot open a netlink socket: {explain(error)}") from error
    with session:
        for index, step in enumerate(steps):
            with _blame(index, step):
                # Let deleted namespaces finish dying first (the kernel destroys them in
                # the background, in batches), unless this is one more to delete.
                if not (step.op == "delete" and isinstance(step.resource, Netns)):
                    netns.settle(session)
                run(session, step)
        if steps:
            with _blame(len(steps) - 1, steps[-1]):
                netns.settle(session)


@contextmanager
def _blame(index: int, step: Step) -> Iterator[None]:
    """Turn a kernel refusal into StepFailed naming the step."""
    what = step.resource.describe()
    try:
        yield
    except OSError as error:
        raise StepFailed(index, step.op, what, explain(error), error.errno or 0) from error
    except ValueError as error:
        raise StepFailed(index, step.op, what, str(error)) from error
