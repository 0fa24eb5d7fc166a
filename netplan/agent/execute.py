"""Run planned steps in order; a kernel refusal becomes one line naming step and resource."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from netplan.agent import (
    address,
    bridge,
    bridge_fdb,
    fdb,
    firewall,
    hostsfile,
    macvlan,
    neighbour,
    netns,
    process,
    progress,
    route,
    split,
    stray,
    sysctl,
    veth,
    vlan,
    vxlan,
)
from netplan.agent.errors import AgentFailure, StepFailed, explain
from netplan.agent.journal import Journal
from netplan.agent.resources import (
    Address,
    Bridge,
    BridgeFdb,
    Fdb,
    HostsFile,
    Macvlan,
    Neighbour,
    Netns,
    NftTable,
    Process,
    Resource,
    Route,
    StrayLink,
    Sysctl,
    Veth,
    Vlan,
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
    BridgeFdb: Kind(bridge_fdb.create, None, bridge_fdb.delete),
    Neighbour: Kind(neighbour.create, neighbour.update, neighbour.delete),
    Macvlan: Kind(macvlan.create, macvlan.update, macvlan.delete),
    Vlan: Kind(vlan.create, vlan.update, vlan.delete),
    StrayLink: Kind(stray.create, None, stray.delete),
    HostsFile: Kind(hostsfile.create, hostsfile.update, hostsfile.delete),
    Process: Kind(process.create, process.update, process.delete),
}


def run(session: Session, step: Step) -> None:
    resource, kind = step.resource, KINDS[type(step.resource)]
    if step.op == "create":
        kind.create(session, resource)
    elif step.op == "delete":
        kind.delete(session, resource)
    else:
        fixed = set(step.fields) - resource.MUTABLE
        if kind.update is None or fixed:
            what = ", ".join(sorted(fixed)) or f"a {resource.KIND}"
            raise ValueError(f"{what} cannot be changed in place: delete and recreate it")
        kind.update(session, resource, step.fields)


def execute(topology: str, steps: Sequence[Step], journal: Journal | None = None) -> None:
    """Run `steps` (already in dependency order) for `topology`, whose name goes into
    every ownership marker. Raises StepFailed at the first step the kernel refuses, or
    once every step is done, for the first process that did not start. A `journal`
    notes each step done, and may stop the run between two steps (Interrupted)."""
    try:
        session = (Session(topology) if journal is None else
                   Session(topology, replaced_hosts=journal.hosts_files,
                           shared_rewrites=journal.shared_rewrites))
    except OSError as error:
        raise AgentFailure(f"cannot open a netlink socket: {explain(error)}") from error
    with session:
        expect_hosts_files(session, steps)
        try:
            for start, group in _groups(steps):
                if len(group) == 1:
                    _run_one(session, start, group[0], journal, len(steps))
                elif _makes_namespace(group[0]):
                    _make_namespaces(session, start, group, journal, len(steps))
                else:
                    _rewrite_hosts_files(session, start, group, journal, len(steps))
            if steps:
                with _blame(len(steps) - 1, steps[-1]):
                    netns.settle(session)
        except AgentFailure:
            _settle_for_rollback(session)
            raise
        finally:
            failures = process.confirm(session)
    _report_processes(steps, failures)


def expect_hosts_files(session: Session, steps: Sequence[Step]) -> None:
    """Tell the session which hosts files the steps write and remove (HostsSharing): an
    execute's, and a rollback's (whose undo of a shared file's rewrite in place wants
    every name of the file back at its old text, so the file is rewritten back in place)."""
    wanted, dropped = [], []
    for step in steps:
        resource = step.resource
        if isinstance(resource, HostsFile):
            if step.op == "delete":
                dropped.append(resource.netns)
            else:
                wanted.append((resource.netns, resource.digest))
        elif isinstance(resource, Netns) and step.op == "delete":
            dropped.append(resource.name)
    session.hosts.expect(wanted, dropped)


def _settle_for_rollback(session: Session) -> None:
    """After a failed or interrupted run, before its rollback (a session of its own, which
    does not know what this one deleted) makes deleted namespaces again: the host ends
    of their veths must be gone, or their names are still taken. The failure being
    raised is the one to report: a settle that fails adds nothing to it."""
    with suppress(OSError):
        netns.settle(session)


def _groups(steps: Sequence[Step]) -> Iterator[tuple[int, list[Step]]]:
    """The steps one by one, with their index; except a run of namespaces to make long
    enough to be made in parts (netns.create_in_parts), and a run of hosts files to
    rewrite (_rewrite_hosts_files), each of which comes as one group."""
    index = 0
    while index < len(steps):
        namespaces = _run_end(steps, index, _makes_namespace)
        rewrites = _run_end(steps, index, _rewrites_hosts_file)
        if split.part_count(namespaces - index, netns.NAMESPACES_PER_PROCESS,
                            split.cpus()) > 1:
            yield index, list(steps[index:namespaces])
            index = namespaces
        elif rewrites - index > 1:
            yield index, list(steps[index:rewrites])
            index = rewrites
        else:
            end = max(namespaces, index + 1)
            yield from ((i, [steps[i]]) for i in range(index, end))
            index = end


def _run_end(steps: Sequence[Step], start: int, alike: Callable[[Step], bool]) -> int:
    """Where the run of steps from `start` that are all `alike` ends."""
    end = start
    while end < len(steps) and alike(steps[end]):
        end += 1
    return end


def _makes_namespace(step: Step) -> bool:
    return step.op == "create" and isinstance(step.resource, Netns)


def _rewrites_hosts_file(step: Step) -> bool:
    return step.op == "update" and isinstance(step.resource, HostsFile)


def _run_one(session: Session, index: int, step: Step, journal: Journal | None,
             total: int) -> None:
    if journal is not None:
        journal.before(index, step, total)
    with _blame(index, step):
        # Let deleted namespaces finish dying first (the kernel destroys them in the
        # background, in batches): the veths they hold keep names a create or an update
        # may need. A delete needs none, so it runs meanwhile (a destroy's bridge and
        # firewall table go while the kernel frees the namespaces); execute() still
        # waits for them before it returns.
        if step.op != "delete":
            netns.settle(session)
        run(session, step)
    if journal is not None:
        journal.done.append(index)
    progress.step_done(index + 1, total)


def _make_namespaces(session: Session, start: int, group: list[Step], journal: Journal | None,
                     total: int) -> None:
    """Steps `start`... (each makes a namespace) at once: a stop asked for is heard before
    them; those made are noted done even when another one failed."""
    if journal is not None:
        journal.before(start, group[0], total)
    namespaces = [step.resource for step in group if isinstance(step.resource, Netns)]
    with _blame(start, group[0]):
        netns.settle(session)
        made, failed = netns.create_in_parts(session, namespaces)
    done = {ns.name for ns in made}
    if journal is not None:
        journal.done += [start + i for i, ns in enumerate(namespaces) if ns.name in done]
    if failed is not None:
        ns, error = failed
        index = start + next(i for i, each in enumerate(namespaces) if each.name == ns.name)
        with _blame(index, group[index - start]):
            raise error
    progress.step_done(start + len(group), total)


def _rewrite_hosts_files(session: Session, start: int, group: list[Step],
                         journal: Journal | None, total: int) -> None:
    """Steps `start`... (each rewrites a hosts file) in one go: a stop asked for is heard
    before them; each is noted done, and reported, as it is done. Adding a container to a
    network rewrites the file of every container on it, mostly names of one file that
    the first step rewrote (netplan/agent/hosts_sharing.py): at N=1,000, a step's own
    bookkeeping in _run_one cost more than the step."""
    if journal is not None:
        journal.before(start, group[0], total)
    with _blame(start, group[0]):
        netns.settle(session)
    index = start
    try:
        for index, step in enumerate(group, start):
            run(session, step)
            if journal is not None:
                journal.done.append(index)
            progress.step_done(index + 1, total)
    except (OSError, ValueError) as error:
        raise _failed(index, group[index - start], error) from error


def _report_processes(steps: Sequence[Step], failures: list[tuple[Process, str]]) -> None:
    """A process that did not start fails its own step only: the steps after it ran."""
    if not failures:
        return
    (first, reason), others = failures[0], failures[1:]
    if others:
        reason += "; also not started: " + "; ".join(f"{p.describe()}: {why}" for p, why in others)
    index = next(i for i, s in enumerate(steps) if s.resource.key == first.key and s.op != "delete")
    raise StepFailed(index, "start", first.describe(), reason, refused=len(failures))


@contextmanager
def _blame(index: int, step: Step) -> Iterator[None]:
    """Turn a kernel refusal into StepFailed naming the step."""
    try:
        yield
    except (OSError, ValueError) as error:
        raise _failed(index, step, error) from error


def _failed(index: int, step: Step, error: OSError | ValueError) -> StepFailed:
    """The kernel's (or the step's own) refusal of step `index`, naming it."""
    what = step.resource.describe()
    if isinstance(error, OSError):
        return StepFailed(index, step.op, what, explain(error), error.errno or 0)
    return StepFailed(index, step.op, what, str(error))
