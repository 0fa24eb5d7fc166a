"""The agent's failures, each one line for a human, and kernel errnos put into words."""

from __future__ import annotations

import errno
from typing import Any

from netplan.agent.rtnl import NetlinkError

_NOT_ROOT = "operation not permitted (netplan must run as root)"
PHRASES: dict[int, str] = {
    errno.EEXIST: "already exists",
    errno.EPERM: _NOT_ROOT,
    errno.EACCES: _NOT_ROOT,
    errno.ENOENT: "does not exist",
    errno.ESRCH: "does not exist",
    errno.ENODEV: "a link it needs does not exist",
    errno.EADDRNOTAVAIL: "the address is not on that link",
    errno.ENETUNREACH: "the gateway is not reachable through that link",
    errno.EINVAL: "the kernel rejected a value as invalid",
    errno.ERANGE: "a value is out of the range the kernel accepts",
    errno.EBUSY: "the link is busy",
    errno.EOPNOTSUPP: "not supported by this kernel",
    errno.EAFNOSUPPORT: "address family not supported by this kernel",
    errno.EMFILE: "too many open files",
    errno.ENOBUFS: "the kernel ran out of buffer space",
    errno.ENOMEM: "the kernel ran out of memory",
}


def explain(error: OSError) -> str:
    """One human line for a kernel error, chosen by errno (never by message text)."""
    code = error.errno or 0
    phrase = PHRASES.get(code) or (error.strerror or "unknown error").lower()
    if isinstance(error, NetlinkError) and error.extack:
        phrase += f" (kernel: {error.extack})"
    return phrase


class AgentFailure(Exception):
    """The agent could not do what it was asked; `message` is one line for a human."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.rollback: dict[str, Any] | None = None
        """What undoing the steps already done achieved (netplan/agent/transaction.py)."""
        self.counted: tuple[int, int] | None = None
        """In an apply, how many steps ran (kept or undone since) and how many failed, as
        the journal saw them: namespaces made side by side run past a step that fails."""

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message}


class StepFailed(AgentFailure):
    """Step `step_index` (0-based) was refused; the steps before it are done. `refused`:
    how many steps it stands for (op `start`: each process that did not start)."""

    def __init__(self, step_index: int, op: str, resource: str, reason: str,
                 code: int = 0, refused: int = 1) -> None:  # fmt: skip
        super().__init__(f"step {step_index + 1}: cannot {op} {resource}: {reason}")
        self.step_index, self.op, self.resource, self.reason = step_index, op, resource, reason
        self.errno, self.refused = code, refused

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "step": self.step_index, "op": self.op,
                "resource": self.resource, "reason": self.reason, "errno": self.errno}


class ProtocolError(AgentFailure):
    """The request is not one this agent understands (version, op or shape)."""
