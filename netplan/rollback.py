"""Transactional apply, the controller's side: send each host its steps with their undo
lists (netplan/plan/inverse.py), stop the agents on a stop signal (netplan/interrupt.py),
report a failure together with its rollback, and confirm (or revert) an
`apply --confirm N`.

After a rollback the host is observed once more and compared with what the plan was made
from, so the report says whether the host is back as it was, not only which undo steps
ran.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from netplan.agent.state import PROTOCOL_VERSION, Step
from netplan.errors import AgentError, NetplanError
from netplan.interrupt import Stopped, describe, held
from netplan.outline import Outline
from netplan.plan.changes import HostPlan
from netplan.plan.inverse import undo_steps
from netplan.plan.order import plan_host
from providers.base import HostConnection

MAX_DIFFERENCES = 5
"""Differences named in a report of an incomplete rollback (then `and N more`)."""


@dataclass(frozen=True)
class Transaction:
    """How apply and destroy run their steps on each host."""

    rollback: bool = True
    """Undo what was done on a host when a step there fails or the run is interrupted."""
    confirm: float | None = None
    """`--confirm N`: each agent reverts by itself after N seconds unless confirmed."""
    command: str = "apply"
    """`apply` or `destroy`, as the reports name it."""


@dataclass(frozen=True)
class StepCounts:
    """What became of a host's steps, as its summary reports them."""

    done: int | None
    """Steps that ran, whether kept or rolled back since; None when not known."""
    failed: int = 0
    """Steps the host refused: the one that stopped the apply, or a process that did
    not start."""
    rolled_back: int | None = 0
    """Steps done that the rollback (or a revert) undid; None when not known."""


class ApplyFailed(NetplanError):
    """A host's apply failed or was interrupted; `lines` say what, and what the rollback
    did (or that the steps done were kept); `counts`, what became of its steps, when
    known."""

    def __init__(self, host: str, lines: list[str], counts: StepCounts | None = None) -> None:
        self.host, self._lines, self.counts = host, lines, counts
        super().__init__("; ".join(lines))

    def lines(self) -> list[str]:
        return list(self._lines)


def apply_host(
    outline: Outline, host: HostConnection, plan: HostPlan, transaction: Transaction,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> bool:  # fmt: skip
    """Run the host's steps; True when they wait for a confirm. ApplyFailed on failure."""
    request: dict[str, Any] = {
        "version": PROTOCOL_VERSION, "op": "apply", "topology": outline.name,
        "steps": _sent(host, plan.steps),
        "undo": [_sent(host, undo) for undo in undo_steps(plan)],
        "rollback": transaction.rollback,
    }  # fmt: skip
    if transaction.confirm is not None:
        request["confirm"] = transaction.confirm
    if on_progress is None:
        answer = host.call(request)
    else:
        answer = host.call_with_progress({**request, "progress": True}, on_progress)
    error = answer.get("error")
    if not error:
        return "pending" in answer
    lines = [_failure_line(host.name, error)]
    done = error.get("rollback")
    if done is not None:
        differences = _still_differs(outline, host, plan)
        lines += rollback_lines(host.name, done, differences, transaction.command)
    elif error.get("op") == "start":
        lines.append(f"host {host.name}: the other steps are kept (a process that did not "
                     f"start is not rolled back); the next apply starts it again")  # fmt: skip
    elif ("resource" in error or error.get("interrupted")) and not transaction.rollback:
        lines.append(f"host {host.name}: kept the steps done (--no-rollback); run "
                     f"{transaction.command} again to converge")  # fmt: skip
    raise ApplyFailed(host.name, lines, step_counts(error))


def _sent(host: HostConnection, steps: Sequence[Step]) -> list[Any]:
    """Steps as the host's agent takes them: as they are in this process, else as JSON."""
    return list(steps) if host.in_process else [step.to_json() for step in steps]


def step_counts(error: dict[str, Any]) -> StepCounts:
    """What became of the steps, as the agent's journal counted them (not from the index
    of the step that failed: namespaces made side by side run past it): `steps_done`,
    those that ran, kept or undone since; `steps_failed`, the one refused, or each
    process that did not start (its step ran, the others too, and nothing is rolled
    back); a rollback says how many it undid. An error from before the steps (no counts):
    none ran."""
    rollback = error.get("rollback") or {}
    done, failed = error.get("steps_done", 0), error.get("steps_failed", 0)
    return StepCounts(done, failed, rollback.get("undone", 0))


def _failure_line(host: str, error: dict[str, Any]) -> str:
    if "resource" in error:
        return AgentError(host, f"cannot {error['op']} {error['resource']}",
                          error["reason"]).lines()[0]  # fmt: skip
    return f"host {host}: {error.get('message', 'the apply failed')}"


def rollback_lines(
    host: str, done: dict[str, Any], differences: list[str], command: str = "apply"
) -> list[str]:
    undone, of, seconds = done.get("undone", 0), done.get("of", 0), done.get("seconds", 0)
    head = f"host {host}: rolled back {undone} of {of} steps in {seconds:.2f} s"
    lines = [f"host {host}: could not undo: {failure}" for failure in done.get("failures", [])]
    if not differences and not of:
        return [f"host {host}: nothing had been changed yet: the host is as it was before the "
                f"{command}", *lines]  # fmt: skip
    if not differences and lines:
        return [f"{head}: what netplan observes is as it was before the {command}, but "
                f"{len(lines)} undo step(s) failed (hint: see below, and remove what is "
                f"left by hand)", *lines]  # fmt: skip
    if not differences:
        return [f"{head}: the host is as it was before the {command}", *lines]
    shown = "; ".join(differences[:MAX_DIFFERENCES])
    more = len(differences) - MAX_DIFFERENCES
    if more > 0:
        shown += f"; and {more} more"
    return [f"{head}; it still differs from before the {command}: {shown} "
            f"(hint: run {command} again to converge)", *lines]  # fmt: skip


def _still_differs(outline: Outline, host: HostConnection, plan: HostPlan) -> list[str]:
    """What the host now has that differs from what the plan was made from."""
    from netplan.pipeline import observe_host

    try:
        now = observe_host(outline, host)
    except NetplanError as error:
        return [f"could not observe the host again: {error}"]
    back = plan_host(host.name, plan.observed, now)
    return back.differences()


@contextmanager
def cancel_on_interrupt(hosts: Mapping[str, HostConnection]) -> Iterator[None]:
    """While the steps run: the first stop signal asks every host's agent to stop between
    two steps and roll back (or, if its apply has not begun, to stop before the first),
    and is raised as Stopped once every host has answered (the answers say how each one
    went); a second one is raised at once."""
    woken = threading.Event()
    """Set by the first stop signal, or when the steps are done: the watcher never
    polls, so it ends as soon as the steps do."""

    with held(woken.set, sends_steps=True) as stop:

        def cancel_all() -> None:
            woken.wait()
            if stop.signum is not None:
                for connection in list(hosts.values()):
                    connection.cancel(describe(stop.signum))

        watcher = threading.Thread(target=cancel_all, name="netplan-cancel", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            woken.set()
            watcher.join()
    if stop.signum is not None:
        raise Stopped(stop.signum, changed=True)


@dataclass
class AfterSteps:
    stopped: Stopped | None = None
    """The stop signal that ended the work once the steps were sent."""


@contextmanager
def stop_after_steps(
    outline: Outline, hosts: Any, plans: Mapping[str, HostPlan], reverts: bool, hint: str
) -> Iterator[AfterSteps]:
    """Around sending the steps, verifying and confirming: a stop signal once the steps
    were sent (raised when every host has answered, or while verifying) ends the work,
    and each host whose steps were done fails with a line that says what it has. With
    `reverts` (--confirm) its change is reverted, since nobody is going to confirm it;
    else it is kept, unverified (`hint` says how to check it). A stop before the steps
    were sent, or a second one that cut work short, goes on up."""
    outcome = AfterSteps()
    try:
        yield outcome
    except Stopped as stop:
        if not stop.changed or stop.at_once:
            raise
        outcome.stopped = stop
        _fail_done_hosts(outline, hosts, plans, stop, reverts, hint)


def _fail_done_hosts(
    outline: Outline, hosts: Any, plans: Mapping[str, HostPlan], stop: Stopped,
    reverts: bool, hint: str,
) -> None:  # fmt: skip
    done = [name for name in hosts if not plans[name].empty]
    if reverts:
        why = f"interrupted ({stop.why}) before the change was confirmed: reverted it"
        confirm_hosts(outline, hosts, plans, done, keep=False, why=why)
        return
    for name in done:
        steps = len(plans[name].steps)
        line = (f"host {name}: interrupted ({stop.why}) after its {steps} steps were done: "
                f"the changes are kept but not verified (hint: {hint})")  # fmt: skip
        hosts.fail(name, "verify", ApplyFailed(name, [line], StepCounts(steps)))


def confirm_hosts(
    outline: Outline, hosts: Any, plans: Mapping[str, HostPlan], pending: list[str], keep: bool,
    why: str | None = None,
) -> None:  # fmt: skip
    """Confirm (or, when not `keep`, revert) every pending host still in; a host whose
    agent already reverted it, or that is reverted now, fails at stage `confirm` (`why`
    it was reverted, if given, first)."""

    def one(host: HostConnection) -> None:
        if host.name not in pending:
            return
        op = "confirm" if keep else "revert"
        answer = host.call({"version": PROTOCOL_VERSION, "op": op, "topology": outline.name})
        error = answer.get("error")
        steps = len(plans[host.name].steps)
        if error:  # reverted at its deadline, by how much the agent's words say
            raise ApplyFailed(host.name, [f"host {host.name}: {error.get('message')}"],
                              StepCounts(steps, rolled_back=None))  # fmt: skip
        if not keep:  # no rollback in the answer: the agent's deadline came first
            done = answer.get("rollback")
            undone = None if done is None else done.get("undone", 0)
            differences = _still_differs(outline, host, plans[host.name])
            lines = rollback_lines(host.name, done or {"undone": 0, "of": 0}, differences)
            raise ApplyFailed(host.name, [f"host {host.name}: {why}", *lines] if why else lines,
                              StepCounts(steps, rolled_back=undone))

    hosts.each("confirm", one)
