"""The stages every command is made of: load → connect → observe → plan → apply → verify.

`plan`, `check`, `apply`, post-apply verification and `destroy` (desired = nothing) are
all the same diff. Hosts are connected, observed, applied and verified in parallel; a
host that fails at any stage is set aside with its error and the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from netplan import progress
from netplan.agent.state import PROTOCOL_VERSION, Facts, HostState
from netplan.errors import AgentError, ConflictError, NetplanError, VerifyError
from netplan.fanout import DEFAULT_FORKS, fan_out
from netplan.gate.record import LastApplied, Source
from netplan.outline import Outline
from netplan.plan.changes import HostPlan
from netplan.plan.order import plan_host
from netplan.plan.scope import Scope, scope_of, with_untouched, within
from providers import connectors
from providers.base import HostConnection

if TYPE_CHECKING:
    from netplan.hostlock import LockRequest
    from netplan.rollback import Transaction

Result = TypeVar("Result")


class Record(Enum):
    """What an observation reads of each host's last-applied record."""

    NONE = "none"
    SOURCE = "source"
    """Only which file it was made from (apply and destroy), into Hosts.sources."""
    WHOLE = "whole"
    """All of it (check), into Hosts.records."""


@dataclass(frozen=True)
class Failure:
    stage: str
    """connect, lock, observe, apply, verify, confirm or record (the last-applied record)."""
    error: NetplanError


class Hosts(dict[str, HostConnection]):
    """The open connections of one command, by host name; closes them all on exit.

    A host that fails leaves for `failed`, with the stage and the error."""

    def __init__(self, forks: int = DEFAULT_FORKS) -> None:
        super().__init__()
        self.forks = forks
        self.failed: dict[str, Failure] = {}
        self.departed: list[str] = []
        """Hosts no longer in the file that the topology had at its last apply."""
        self.records: dict[str, LastApplied | None] = {}
        """Last-applied records read with the observation (last_applied())."""
        self.sources: dict[str, Source | None] = {}
        """Which file each host's last apply was made from, read with the observation
        (Record.SOURCE); None: no record."""

    def names(self, outline: Outline) -> list[str]:
        """The topology's hosts in its order, then those that left it."""
        return [*outline.hosts, *self.departed]

    def each(
        self, stage: str, work: Callable[[HostConnection], Result], shown: str | None = None
    ) -> dict[str, Result]:
        """`work` on every host still in, up to `forks` at once; the results by host.
        Progress shows it as `shown` (default: `stage`)."""

        def reported(host: HostConnection) -> Result:
            return progress.timed(host.name, shown or stage, lambda: work(host))

        results, errors = fan_out(self, reported, self.forks)
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


def connect_hosts(
    outline: Outline, provider: str, inventory: Path | None = None, forks: int = DEFAULT_FORKS
) -> Hosts:
    """Every host's connection, opened in parallel; the unreachable ones are in `failed`."""
    return connect_names(list(outline.hosts), provider, inventory, forks)


def connect_names(
    names: list[str], provider: str, inventory: Path | None = None, forks: int = DEFAULT_FORKS
) -> Hosts:
    hosts = Hosts(forks)
    connecting = connectors(provider, names, inventory)
    opened, errors = fan_out({name: (name, c) for name, c in connecting.items()}, _open, forks)
    hosts.update(opened)
    for name, error in errors.items():
        hosts.failed[name] = Failure("connect", error)
    return hosts


def _open(named: tuple[str, Callable[[], HostConnection]]) -> HostConnection:
    name, connect = named
    return progress.timed(name, "connect", connect)


def call(
    host: HostConnection,
    request: dict[str, Any],
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One agent request; with `on_progress`, the agent is asked to report its progress
    (each step done, while it applies) and the reports go there as they come."""
    request = {"version": PROTOCOL_VERSION, **request}
    if on_progress is None:
        answer = host.call(request)
    else:
        answer = host.call_with_progress({**request, "progress": True}, on_progress)
    return answered(host, answer)


def answered(host: HostConnection, answer: dict[str, Any]) -> dict[str, Any]:
    """The agent's answer; its error raised as an AgentError."""
    error = answer.get("error")
    if error:
        if "resource" in error:
            what = f"cannot {error['op']} {error['resource']}"
            raise AgentError(host.name, what, error["reason"])
        raise AgentError(host.name, "agent", error["message"])
    return answer


def observe(
    outline: Outline, hosts: Hosts, shown: str = "observe", records: Record = Record.NONE,
    owners: bool = False, hosts_text: bool = False,
) -> dict[str, HostState]:
    """Each host's state; with `records`, its last-applied record (or its source) is read
    in the same request, into hosts.records (hosts.sources); with `owners`, whose the
    other named namespaces are (Facts.namespace_owners); with `hosts_text`, each hosts
    file's text (HostsFile.content), which only `netplan show` reads."""

    def one(host: HostConnection) -> HostState:
        answer = call(host, observe_request(outline, host, records=records, owners=owners,
                                            hosts_text=hosts_text))
        return _observed(hosts, host.name, answer)

    return hosts.each("observe", one, shown)


def observe_beside(
    outline: Outline, hosts: Hosts, work: Callable[[], Result], records: Record = Record.NONE
) -> tuple[dict[str, HostState], Result]:
    """observe(), with `work()` done on this thread while the hosts observe (loading the
    file: at N=500 its imports and validation take as long as the observation). Every
    host is asked at once (HostConnection.begin: the local agent in a forked child, a
    remote one on a thread that waits for it); each answer is waited for even if `work`
    raises. A host that fails is set aside as observe() does; any other exception is a bug,
    raised once every answer is in (as fan_out does)."""
    reporter = progress.reporter()
    started: dict[str, tuple[float, Callable[[], dict[str, Any]]]] = {}
    for name, host in hosts.items():
        reporter.stage(name, "observe")
        request = {"version": PROTOCOL_VERSION,
                   **observe_request(outline, host, records=records)}  # fmt: skip
        started[name] = (time.perf_counter(), host.begin(request))
    try:
        done = work()
    finally:
        observed, bug = {}, None
        for name, (began, answer) in started.items():
            try:
                observed[name] = _observed(hosts, name, answered(hosts[name], answer()))
            except NetplanError as error:
                hosts.fail(name, "observe", error)
            except BaseException as error:  # a bug: raised once the others are in
                bug = bug or error
            finally:
                reporter.stage_done(name, "observe", time.perf_counter() - began,
                                    name in observed)  # fmt: skip
        if bug is not None:
            raise bug
    return observed, done


def observe_host(outline: Outline, host: HostConnection,
                 scope: Scope | None = None) -> HostState:
    """The host's state; with a `scope`, within it only (netplan/plan/scope.py)."""
    return observed_state(call(host, observe_request(outline, host, scope)))


def observe_request(outline: Outline, host: HostConnection, scope: Scope | None = None,
                    records: Record = Record.NONE, owners: bool = False,
                    hosts_text: bool = False) -> dict[str, Any]:
    """The observe request of `host`, within `scope`, with as much of the last-applied
    record as `records` says, the other namespaces' owners if `owners`, and the hosts
    files' text if `hosts_text`. A scope that
    leaves out the root namespace asks for no facts: with_untouched keeps those of the
    observation before."""
    request: dict[str, Any] = {"op": "observe", "topology": outline.name}
    if records is Record.WHOLE:
        request["record"] = True
    elif records is Record.SOURCE:
        request["source"] = True
    if owners:
        request["owners"] = True
    if hosts_text:
        request["hosts"] = True
    if scope is not None and scope.namespaces is not None:
        request["inside"] = scope.namespaces
    if scope is not None and not scope.root:
        request["root"] = False
    else:
        request.update(outline.facts_asked(host.name, host.underlay))
    return request


def observed_state(answer: dict[str, Any]) -> HostState:
    state = answer["state"]
    return state if isinstance(state, HostState) else HostState.from_json(state)


def _observed(hosts: Hosts, name: str, answer: dict[str, Any]) -> HostState:
    """The state in an observation's answer; its record or source, if it has one, kept
    in hosts."""
    if "record" in answer:
        hosts.records[name] = LastApplied.from_json(answer["record"])
    if "source" in answer:
        hosts.sources[name] = Source.from_json(answer["source"])
    return observed_state(answer)


def departed(outline: Outline, observed: Mapping[str, HostState]) -> list[str]:
    """Hosts the topology had at its last apply (the observed hosts' rosters say which)
    that the file no longer names: what the topology made there has to go."""
    rosters = dict.fromkeys(name for state in observed.values() for name in state.facts.roster)
    return [name for name in rosters if name not in outline.hosts]


def join_departed(
    outline: Outline, hosts: Hosts, observed: dict[str, HostState], provider: str,
    inventory: Path | None, request: LockRequest | None = None,
) -> None:  # fmt: skip
    """Connect to (with `request`, lock) and observe the hosts that left the topology, and
    add them to `hosts` and `observed`: their plan removes everything (plan())."""
    names = departed(outline, observed)
    if not names:
        return
    gone = connect_names(names, provider, inventory, hosts.forks)
    if request is not None:
        lock(outline, gone, request)
    observed.update(observe(outline, gone))
    hosts.update(gone)
    hosts.failed.update(gone.failed)
    hosts.departed = names


def lock(outline: Outline, hosts: Hosts, request: LockRequest) -> None:
    """Each host's lock, taken for the rest of the command (apply, destroy)."""
    from netplan.hostlock import lock_host  # a check locks nothing: not imported for it

    hosts.each("lock", partial(lock_host, outline, request=request))


def plan(
    desired: Mapping[str, HostState], observed: Mapping[str, HostState]
) -> dict[str, HostPlan]:
    """Each observed host's plan; a host `desired` does not name (it left the file) is
    emptied."""
    return {host: progress.timed(host, "plan", partial(plan_host, host,
                                                         desired.get(host, HostState()),
                                                         observed[host]))
            for host in observed}  # fmt: skip


def refuse_conflicts(plans: Mapping[str, HostPlan]) -> None:
    """Nothing is changed anywhere if any host has an object in the way."""
    for host, host_plan in plans.items():
        if host_plan.conflicts:
            raise ConflictError(host, [c.refusal() for c in host_plan.conflicts])


def execute(
    outline: Outline, plans: Mapping[str, HostPlan], hosts: Hosts,
    transaction: Transaction | None = None,
) -> list[str]:  # fmt: skip
    """Run every host's steps, each host's as a transaction (netplan/rollback.py; by
    default, rolled back where a step fails or a stop signal stops it: Stopped is
    raised once every host has answered); the hosts whose apply waits for a confirm
    (`transaction.confirm`)."""
    from netplan.rollback import Transaction, apply_host, cancel_on_interrupt

    refuse_conflicts(plans)
    transaction = Transaction() if transaction is None else transaction

    def one(host: HostConnection) -> bool:
        steps = plans[host.name].steps
        if not steps:
            return False
        reports = progress.step_reports(host.name, steps)
        return apply_host(outline, host, plans[host.name], transaction, reports)

    with cancel_on_interrupt(hosts):
        pending = hosts.each("apply", one)
    return [name for name, waits in pending.items() if waits]


def verify(
    outline: Outline, hosts: Hosts, plans: Mapping[str, HostPlan]
) -> dict[str, HostState]:
    """Re-observe what the plans changed (netplan/plan/scope.py); the diff against what
    they desired must now be empty: a host where it is not fails with what differs. The
    state of each host that passed, whole: what was re-observed, the rest as it was (a
    host whose plan was empty is not asked again: nothing was done there)."""

    def one(host: HostConnection) -> tuple[HostPlan, HostState]:
        done = plans[host.name]
        if done.empty:
            return done, done.observed
        scope = scope_of(done)
        state = with_untouched(done.observed, observe_host(outline, host, scope), scope)
        return plan_host(host.name, within(done.desired, scope), within(state, scope)), state

    after: dict[str, HostState] = {}
    for name, (host_plan, state) in hosts.each("observe", one, "verify").items():
        if host_plan.empty:
            after[name] = state
        else:
            hosts.fail(name, "verify", VerifyError(name, host_plan.differences()))
    return after


def settled(
    outline: Outline, hosts: Hosts, after: Mapping[str, HostState],
    recorded: Mapping[str, Facts],
) -> dict[str, HostState] | None:  # fmt: skip
    """What the next observation of the topology's hosts finds if nothing changes
    meanwhile: each host's state after the apply (verify's, or the observation's when it
    had nothing to do), with the roster and addresses its new record gives it
    (record_applied). None unless every host of the topology got there (a host that
    failed, or that `--confirm` reverted, is in hosts.failed)."""
    names = list(outline.hosts)
    if hosts.failed or not all(n in after and n in recorded for n in names):
        return None
    return {n: replace(after[n], facts=replace(after[n].facts, roster=recorded[n].roster,
                                               addresses=recorded[n].addresses))
            for n in names}  # fmt: skip


def verify_desired(outline: Outline, desired: Mapping[str, HostState], hosts: Hosts) -> None:
    """verify, against desired states given rather than compiled (a saved plan's)."""
    for name, state in observe(outline, hosts, "verify").items():
        host_plan = plan_host(name, desired[name], state)
        if not host_plan.empty:
            hosts.fail(name, "verify", VerifyError(name, host_plan.differences()))


def last_applied(outline: Outline, hosts: Hosts) -> dict[str, LastApplied | None]:
    """Each host's last-applied record (None: there is none this version can read); read
    again unless the observation brought it."""

    def one(host: HostConnection) -> LastApplied | None:
        if host.name in hosts.records:
            return hosts.records[host.name]
        answer = call(host, {"op": "record", "topology": outline.name, "action": "read"})
        return LastApplied.from_json(answer.get("record"))

    return hosts.each("record", one)


def record_applied(
    outline: Outline, desired: Mapping[str, HostState], hosts: Hosts, source: Source
) -> dict[str, Facts]:
    """After a successful apply, on every host still in: what was desired, from which
    file. By host written to, the roster and addresses its observations now report
    (the rest of the returned Facts is left empty)."""

    def one(host: HostConnection) -> Facts | None:
        if host.name not in outline.hosts:  # it left the topology: nothing of it is there
            call(host, {"op": "record", "topology": outline.name, "action": "remove"})
            return None
        record = LastApplied.now(desired[host.name], source, tuple(outline.hosts)).to_json()
        answer = call(host, {"op": "record", "topology": outline.name, "action": "write",
                             "record": record})  # fmt: skip
        return Facts.from_json(answer)

    return {name: facts for name, facts in hosts.each("record", one).items() if facts is not None}


def forget_applied(outline: Outline, hosts: Hosts) -> None:
    """After a destroy: no record, so a later check reports everything as pending."""

    def one(host: HostConnection) -> None:
        call(host, {"op": "record", "topology": outline.name, "action": "remove"})

    hosts.each("record", one)
