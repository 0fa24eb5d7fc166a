"""One `netplan lab up` or `lab down` at a time on this machine.

Two started at once would both make the underlay bridge and the hosts' links, and the
second would fail half-way ("RTNETLINK answers: File exists"). The lock is the agent's
kind (netplan/agent/lock.py: an flock that goes with its holder, who writes who it is)
on its own file, for the whole machine: every lab shares the bridge labbr0, whatever its
directory. A second command waits for the first, then finds its hosts running.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from netplan.agent import lock
from netplan.agent.errors import AgentFailure
from providers.lab_net import LabError

LAB_LOCK = Path("/run/netplan/lab.lock")
"""Not in the lab's directory: `lab down` removes that, and labs in other directories
share the bridge."""
WAIT = 120.0
"""Seconds a lab command waits for another by default: far longer than one takes."""


@contextmanager
def lab_locked(command: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the lab lock for the body, waiting up to `timeout` seconds for it (default
    WAIT); LabError naming the holder if it stays taken."""
    from netplan.hostlock import holder

    wait = WAIT if timeout is None else timeout
    try:
        fd = lock.take(LAB_LOCK, holder(command), wait, "the lab lock")
    except lock.Locked as busy:
        waited = f" after waiting {busy.waited:g} s" if busy.waited else ""
        raise LabError(
            f"the lab is locked by {lock.describe(busy.holder)}{waited}; nothing was changed "
            f"(hint: wait for it to finish, or pass --lock-timeout SECONDS to wait longer)"
        ) from None
    except AgentFailure as error:
        raise LabError(error.message) from None
    try:
        yield
    finally:
        os.close(fd)
