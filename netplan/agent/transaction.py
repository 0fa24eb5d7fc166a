"""An apply as a transaction on this host: rolled back when it fails or is interrupted,
and, with `apply --confirm N`, reverted by the agent itself unless confirmed in time.

Rollback runs the undo lists of the steps done, last step first (netplan/agent/journal.py).
The step that failed is not undone: what refused it may be someone else's object in the
way, which netplan must not touch. A process that did not start fails its own step after
every other step ran (netplan/agent/process.py), and the apply is kept, as the process
spec asks: the next apply starts it again. Nothing is rolled back for that.

A pending (not yet confirmed) apply keeps its journal here until `confirm`, `revert`, or
its deadline. The agent serving a remote host checks the deadline between requests and
reverts at once when its controller goes (netplan/agent/__main__.py); in-process (the
local provider), a timer thread reverts it.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from netplan.agent import execute as _execute
from netplan.agent import netns, process
from netplan.agent.errors import AgentFailure, StepFailed, explain
from netplan.agent.journal import Interrupted, Journal, StopReason
from netplan.agent.resources import Netns
from netplan.agent.session import Session
from netplan.agent.state import Step

GONE = frozenset({errno.ENOENT, errno.ENODEV, errno.ESRCH, errno.EADDRNOTAVAIL})
"""A delete that finds nothing to delete has nothing to undo (the kernel took it with
its parent)."""

_cancelled_by: str | None = None
"""Why the controller asked this session to stop (Ctrl-C, SIGTERM, SIGHUP). It holds
until the session ends: a stop asked for before an apply begins (while the controller
still builds the request) stops that apply before its first step instead of being lost."""
SERVED = False
"""True in an agent serving the protocol on stdin (its loop watches the deadline); False
in-process, where a timer thread does."""


def cancel(reason: str) -> None:
    """The controller asks this session's apply, running or still to come, to stop."""
    global _cancelled_by
    _cancelled_by = reason


def cancelled() -> str | None:
    """Why the session was asked to stop, or None."""
    return _cancelled_by


def end_session() -> None:
    """A new session starts with no stop asked for (in-process, where sessions share
    this module; an agent serving stdin is one session)."""
    global _cancelled_by
    _cancelled_by = None


stop_reason: StopReason = cancelled
"""Asked between steps; the serving agent replaces it with one that also reads stdin."""


@dataclass
class Rollback:
    undone: int
    of: int
    failures: list[str]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"undone": self.undone, "of": self.of, "failures": self.failures,
                "seconds": round(self.seconds, 3)}  # fmt: skip


@dataclass
class Pending:
    topology: str
    journal: Journal
    deadline: float
    """time.monotonic() when the agent reverts it."""
    seconds: float


_guard = threading.Lock()
_pending: Pending | None = None
_reverted: Rollback | None = None
"""The last apply reverted at its deadline, until `confirm` hears of it."""


def apply(topology: str, steps: Sequence[Step], undo: list[list[Step]] | None,
          rollback: bool, confirm: float | None) -> dict[str, Any]:  # fmt: skip
    """Run the steps; on a failure or interruption, undo what was done when `rollback`
    (the failure then carries the rollback's report); with `confirm` seconds, keep the
    journal pending until confirmed, reverted, or the deadline."""
    global _reverted
    _reverted = None
    journal = Journal.of(steps, undo, stop_reason)
    try:
        _execute.execute(topology, steps, journal)
    except AgentFailure as failure:
        failure.counted = _counted(failure, journal)
        started = isinstance(failure, StepFailed) and failure.op == "start"
        if rollback and not started and isinstance(failure, (StepFailed, Interrupted)):
            failure.rollback = undo_journal(topology, journal).to_json()
        raise
    if confirm is None or not journal.done:
        return {"done": len(journal.done)}
    _hold(Pending(topology, journal, time.monotonic() + confirm, confirm))
    return {"done": len(journal.done), "pending": {"seconds": confirm}}


def _counted(failure: AgentFailure, journal: Journal) -> tuple[int, int]:
    """How many steps ran and how many failed. A process that did not start ran its
    step (its child was forked), and fails it."""
    refused = failure.refused if isinstance(failure, StepFailed) else 0
    if isinstance(failure, StepFailed) and failure.op == "start":
        return len(journal.done) - refused, refused
    return len(journal.done), refused


def undo_journal(topology: str, journal: Journal) -> Rollback:
    """Run the undo lists of the steps done, last done first; go on past a refusal (undo
    as much as can be), and report what could not be undone."""
    started = time.monotonic()
    todo = journal.steps_to_undo()
    undone, failures = 0, []
    try:
        session = Session(topology)
    except OSError as error:
        return Rollback(0, len(todo), [f"cannot open a netlink socket: {explain(error)}"], 0.0)
    with session:
        _execute.expect_hosts_files(session, [step for steps in todo for step in steps])
        for steps in todo:
            refused = [line for step in steps if (line := _undo_one(session, step))]
            failures += refused
            undone += not refused
        try:
            netns.settle(session)
        except OSError as error:
            failures.append(f"cannot remove deleted namespaces' links: {explain(error)}")
        failures += [f"cannot start {p.describe()} again: {why}"
                     for p, why in process.confirm(session)]  # fmt: skip
    journal.done.clear()
    return Rollback(undone, len(todo), failures, time.monotonic() - started)


def _undo_one(session: Session, step: Step) -> str | None:
    """Run one undo step; None when done (or nothing was left to delete), else why not."""
    try:
        if not (step.op == "delete" and isinstance(step.resource, Netns)):
            netns.settle(session)
        _execute.run(session, step)
    except OSError as error:
        if step.op == "delete" and error.errno in GONE:
            return None
        return f"cannot {step.op} {step.resource.describe()}: {explain(error)}"
    except ValueError as error:
        return f"cannot {step.op} {step.resource.describe()}: {error}"
    return None


def _hold(pending: Pending) -> None:
    global _pending
    with _guard:
        _pending = pending
    if not SERVED:
        timer = threading.Timer(pending.seconds, expire, (pending,))
        timer.daemon = True
        timer.start()


def deadline() -> float | None:
    """When the pending apply is due to be reverted (time.monotonic()), if there is one."""
    pending = _pending
    return None if pending is None else pending.deadline


def expire(only: Pending | None = None) -> Rollback | None:
    """Revert the pending apply (`only` that one, if given) because nobody confirmed it."""
    global _reverted
    done = revert(only)
    if done is not None:
        _reverted = done
    return done


def revert(only: Pending | None = None) -> Rollback | None:
    """Undo the pending apply now; None when there is none."""
    global _pending
    with _guard:
        pending = _pending
        if pending is None or (only is not None and pending is not only):
            return None
        _pending = None
        return undo_journal(pending.topology, pending.journal)


def confirm() -> None:
    """Keep the pending apply; an AgentFailure when it was already reverted."""
    global _pending
    with _guard:
        if _pending is not None:
            _pending = None
            return
    reverted = _reverted
    if reverted is not None:
        raise AgentFailure(f"too late to confirm: the apply was reverted at its deadline "
                           f"(undid {reverted.undone} of {reverted.of} steps)")
    raise AgentFailure("there is no apply waiting to be confirmed")


def handle(op: str, request: dict[str, Any]) -> dict[str, Any]:
    """`confirm` and `revert` of the pending apply."""
    if op == "confirm":
        confirm()
        return {}
    done = revert()
    return {"rollback": done.to_json() if done is not None else None}
