"""netplan with a stop signal that arrives at a chosen point of its work, reached through
the code itself rather than by waiting and hoping (tests/e2e/test_stop_signals.py):

    python -m tests.e2e.stop_harness POINT SIGNAL NETPLAN-ARGUMENTS...

POINT is where SIGNAL (INT, TERM or HUP) is sent, to this process unless said otherwise:
- `plan`: as the plans are made, before anything is changed;
- `request`: while the controller builds a host's apply request, once it handles stop
  signals as stop requests; the agent starts only after the cancel has reached it (the
  Ctrl-C a review found lost there);
- `step:K`: before the agent's step K (0-based), once the cancel has reached it;
- `netns-child`: from a forked child that makes namespaces for the local agent, to the
  whole process group, as a terminal sends Ctrl-C or its hangup to every process of its
  foreground group; the next step waits until the cancel has reached the agent;
- `verify`: as the apply verifies what it did;
- `record`: as the apply records what it did;
- `done`: once apply or destroy has returned, done and recorded, before the process exits.

SIGNAL `outside` sends nothing: at the point, the harness writes the file named by
$STOP_HARNESS_READY and waits (up to a minute) until a signal from outside has reached
the agent, e.g. the test closing the terminal.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netplan import cli, pipeline, rollback
from netplan.agent import netns
from netplan.agent.journal import Journal
from netplan.cli import main
from netplan.gate import commands
from providers.local import LocalConnection
from providers.ssh import SSHConnection

DELIVERED = threading.Event()
"""Set once a cancel has been passed to a host's connection."""
WAIT = 60.0


def _noting_delivery(cancel: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    def delivered(connection: Any, reason: str) -> None:
        cancel(connection, reason)
        DELIVERED.set()

    return delivered


def _arrive(sender: str) -> None:
    """The point is reached: send the signal, or let the test send it."""
    if sender == "outside":
        Path(os.environ["STOP_HARNESS_READY"]).write_text("ready")
    else:
        os.kill(os.getpid(), signal.Signals[f"SIG{sender}"])


def _before(sender: str, then: Callable[..., Any], wait: bool) -> Callable[..., Any]:
    """`then`, the signal sent first the first time (and, with `wait`, its cancel at the
    agent; every host's call waits for it)."""
    sent = threading.Lock()

    def reached(*args: Any, **kwargs: Any) -> Any:
        if sent.acquire(blocking=False):
            _arrive(sender)
        if wait:
            DELIVERED.wait(WAIT)
        return then(*args, **kwargs)

    return reached


def _after(sender: str, then: Callable[..., Any]) -> Callable[..., Any]:
    """`then`, the signal sent once it has returned."""

    def returned(*args: Any, **kwargs: Any) -> Any:
        result = then(*args, **kwargs)
        _arrive(sender)
        return result

    return returned


def _at_step(sender: str, first: int) -> None:
    original = Journal.before
    sent: list[bool] = []

    def before(journal: Journal, index: int, step: Any, total: int) -> None:
        if index >= first and not sent:
            sent.append(True)
            _arrive(sender)
            DELIVERED.wait(WAIT)
        original(journal, index, step, total)

    Journal.before = before  # type: ignore[method-assign]


def _in_netns_child(sender: str) -> None:
    make_part, original_before = netns._make_part, Journal.before
    home = os.getpid()

    def part(session: Any, parent: int, namespaces: Any) -> Any:
        if os.getpid() != home:
            os.killpg(os.getpgrp(), signal.Signals[f"SIG{sender}"])
        return make_part(session, parent, namespaces)

    def before(journal: Journal, index: int, step: Any, total: int) -> None:
        if journal.done:  # the namespaces made, in parts: the signal came meanwhile
            DELIVERED.wait(WAIT)
        original_before(journal, index, step, total)

    netns._make_part = part
    Journal.before = before  # type: ignore[method-assign]


def install(point: str, sender: str) -> None:
    for kind in (LocalConnection, SSHConnection):
        kind.cancel = _noting_delivery(kind.cancel)  # type: ignore[method-assign]
    if point == "plan":
        pipeline.plan = _before(sender, pipeline.plan, wait=False)
    elif point == "request":
        rollback.undo_steps = _before(sender, rollback.undo_steps, wait=True)
    elif point.startswith("step:"):
        _at_step(sender, int(point.removeprefix("step:")))
    elif point == "netns-child":
        _in_netns_child(sender)
    elif point == "verify":
        pipeline.verify = _before(sender, pipeline.verify, wait=False)
    elif point == "record":
        commands.remember = _before(sender, commands.remember, wait=False)
    elif point == "done":
        cli.converge = _after(sender, cli.converge)
    else:
        raise SystemExit(f"stop_harness: unknown point {point!r}")


if __name__ == "__main__":
    install(sys.argv[1], sys.argv[2])
    sys.argv = ["netplan", *sys.argv[3:]]
    main()
