"""The lock stage of apply and destroy: each host's agent takes the host lock
(netplan/agent/lock.py) before observing, and keeps it until the command ends.

A host that stays locked past `--lock-timeout` fails with who holds it; the other hosts
go on, as with any host's failure. The default timeout is 0, as Terraform's
`-lock-timeout`: a CI job learns at once that someone else is applying, rather than
changing the host right after them from a plan made before.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from typing import Any

from netplan.agent.state import PROTOCOL_VERSION
from netplan.errors import NetplanError
from netplan.outline import Outline
from providers.base import HostConnection

DEFAULT_TIMEOUT = 0.0


@dataclass(frozen=True)
class LockRequest:
    command: str
    """apply or destroy: said to whoever finds the host locked."""
    timeout: float = DEFAULT_TIMEOUT


class LockedError(NetplanError):
    """Another netplan holds the host lock."""

    def __init__(self, host: str, holder: str, waited: float) -> None:
        self.host, self.holder, self.waited = host, holder, waited
        super().__init__(self.lines()[0])

    def lines(self) -> list[str]:
        waited = f" after waiting {self.waited:g} s" if self.waited else ""
        return [f"host {self.host}: locked by {self.holder}{waited}; nothing was changed "
                f"(hint: wait for it to finish, or pass --lock-timeout SECONDS to wait)"]


def holder(command: str, topology: str | None = None) -> dict[str, Any]:
    """Who this command is, as the lock file keeps it (the lab's lock too)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    found = {"command": command, "pid": os.getpid(), "user": user,
             "controller": socket.gethostname()}  # fmt: skip
    return found if topology is None else {**found, "topology": topology}


def lock_host(outline: Outline, host: HostConnection, request: LockRequest) -> None:
    answer = host.call({"version": PROTOCOL_VERSION, "op": "lock", "topology": outline.name,
                        "holder": holder(request.command, outline.name),
                        "timeout": request.timeout})  # fmt: skip
    error = answer.get("error")
    if not error:
        return
    if error.get("locked"):
        message = str(error.get("message", "")).removeprefix("locked by ")
        raise LockedError(host.name, message, float(error.get("waited", 0)))
    from netplan.errors import AgentError

    raise AgentError(host.name, "host lock", str(error.get("message")))
