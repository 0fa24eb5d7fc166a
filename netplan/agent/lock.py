"""The host lock: one apply or destroy at a time on a host, whatever the topology.

Per host, not per topology: topologies share the host's kernel (names of bridges and
links, the nftables ruleset, `ip_forward`), and a plan's conflict check reads who holds a
name, so a concurrent apply of *another* topology can make a plan stale too.

An `flock(2)` on /run/netplan/lock, taken by the agent for a whole command (observe →
execute → verify → record) and held by the open file: it goes when the agent exits or
crashes, so a killed holder never leaves the host locked. The holder writes who it is
into the file; someone who finds it locked reads that to say who is in the way.
Read-only commands (plan, check, show, verify, graph) never take it.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from netplan.agent.errors import AgentFailure, ProtocolError

LOCK = Path("/run/netplan/lock")
POLL = 0.1
"""Seconds between tries while waiting for the lock."""
MAX_WAIT = 24 * 3600.0
HOLDER_FIELDS = ("command", "topology", "pid", "user", "controller", "since")
MAX_HOLDER_BYTES = 4096

_held: int | None = None
"""The open, locked file descriptor while this agent holds the host lock."""


class Locked(AgentFailure):
    """Another netplan holds the host lock; says who and since when."""

    def __init__(self, holder: dict[str, Any], waited: float) -> None:
        self.holder = holder
        super().__init__(f"locked by {describe(holder)}")
        self.waited = waited

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "locked": True, "holder": self.holder,
                "waited": self.waited}  # fmt: skip


def describe(holder: dict[str, Any]) -> str:
    """`netplan apply (PID 1234, user root on ctl, since 12:01:03, topology 'lab')`."""
    if not holder:
        return "another netplan (it has not said who yet)"
    details = [f"PID {holder.get('pid', '?')}"]
    user, controller = holder.get("user"), holder.get("controller")
    if user:
        details.append(f"user {user}" + (f" on {controller}" if controller else ""))
    since = holder.get("since")
    if isinstance(since, (int, float)):
        details.append("since " + time.strftime("%H:%M:%S", time.localtime(since)))
    if holder.get("topology"):
        details.append(f"topology {holder['topology']!r}")
    return f"netplan {holder.get('command', '?')} ({', '.join(details)})"


def acquire(holder: dict[str, Any], timeout: float) -> None:
    """Take the host lock, waiting up to `timeout` seconds; Locked if it stays taken.
    Taking it again while this agent holds it is a no-op."""
    global _held
    if _held is not None:
        return
    _held = take(LOCK, holder, timeout, "the host lock")


def take(lock: Path, holder: dict[str, Any], timeout: float, what: str) -> int:
    """flock `lock`, waiting up to `timeout` seconds, and write `holder` into it; the open
    file descriptor that holds it (closing it lets go). Locked if it stays taken; `what`
    names the lock in other errors. The lab locks its own file with this too."""
    if not 0 <= timeout <= MAX_WAIT:
        raise ProtocolError(f"lock timeout {timeout!r} is out of range (0 to {MAX_WAIT:g} s)")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        denied = " (hint: netplan must run as root)" if isinstance(error, PermissionError) else ""
        raise AgentFailure(f"cannot open {what} {lock}: {error.strerror}{denied}") \
            from error
    started = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                os.close(fd)
                raise AgentFailure(f"cannot lock {lock}: {error.strerror}") from error
        waited = time.monotonic() - started
        if waited >= timeout:
            found = _read_holder(fd)
            os.close(fd)
            raise Locked(found, round(waited, 1))
        time.sleep(min(POLL, timeout - waited))
    record = {k: holder[k] for k in HOLDER_FIELDS if k in holder}
    record["since"] = time.time()
    record["agent_pid"] = os.getpid()
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode(), 0)
    return fd


def release() -> None:
    """Let the lock go (closing the file does: what it says stays, and means nothing
    until someone holds the lock again)."""
    global _held
    if _held is not None:
        os.close(_held)
        _held = None


def held() -> bool:
    return _held is not None


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, MAX_HOLDER_BYTES, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """`{"op": "lock", "holder": {...}, "timeout": SECONDS}` and `{"op": "unlock"}`."""
    if request.get("op") == "unlock":
        release()
        return {}
    holder, timeout = request.get("holder", {}), request.get("timeout", 0)
    if not isinstance(holder, dict):
        raise ProtocolError("'holder' must be an object")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise ProtocolError("'timeout' must be a number of seconds")
    acquire(holder, float(timeout))
    return {}
