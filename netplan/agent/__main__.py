"""`python -m netplan.agent`: serve the JSON protocol on stdin/stdout, one request and
one response per line, until stdin closes (one persistent session per host).

Besides answering requests, the loop guards an apply: between two steps it looks at
stdin, where the controller may send `{"op": "cancel", "reason": "SIGTERM"}` (a stop
signal; never answered) or the connection may have closed, and either stops the apply
and rolls it back. A cancel holds for the rest of the session: one read before an apply
request (sent while the controller was still building it) stops that apply before its
first step. An apply waiting for `confirm` is reverted at its deadline, or at once when
stdin closes: no one is left who could confirm it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
import traceback
from typing import Any

from netplan.agent import heap, transaction
from netplan.agent.api import handle
from netplan.agent.state import PROTOCOL_VERSION

READ_SIZE = 1 << 16
LOST = "the connection to the controller closed"
MAX_REASON = 40
"""Characters of a cancel's reason kept (it is a signal's name)."""


def _failure(message: str) -> dict[str, Any]:
    return {"version": PROTOCOL_VERSION, "ok": False, "error": {"message": message}}


class Requests:
    """Lines from a file descriptor, read without Python's buffering so that `poll` can
    tell what is waiting."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""
        self.closed = False

    def _fill(self, timeout: float | None) -> bool:
        """Read what is there, waiting up to `timeout` (None: forever); False on timeout."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        chunk = os.read(self.fd, READ_SIZE)
        if not chunk:
            self.closed = True
        self.pending += chunk
        return True

    def next_line(self, timeout: float | None) -> bytes | None:
        """The next line; None on timeout; b"" once stdin is closed and drained."""
        while b"\n" not in self.pending:
            if self.closed:
                line, self.pending = self.pending, b""
                return line
            if not self._fill(timeout):
                return None
        line, _, self.pending = self.pending.partition(b"\n")
        return line + b"\n"

    def stop_reason(self) -> str | None:
        """Asked between an apply's steps: a cancel request (now or earlier in the
        session), or the end of stdin."""
        if not self.closed:
            self._fill(0)
        if self.closed:
            return LOST
        lines = self.pending.split(b"\n")
        kept = [line for line in lines[:-1] if not _took_cancel(line)]
        if len(kept) < len(lines) - 1:
            self.pending = b"".join(line + b"\n" for line in kept) + lines[-1]
        return transaction.cancelled()


def _took_cancel(line: bytes) -> bool:
    """Whether `line` is a cancel request; if so, the session is cancelled."""
    try:
        request = json.loads(line)
    except ValueError:
        return False
    if not (isinstance(request, dict) and request.get("op") == "cancel"):
        return False
    reason = request.get("reason")
    if not (isinstance(reason, str) and reason and reason.isprintable()):
        reason = "Ctrl-C"  # a controller that names no signal sends it on Ctrl-C only
    transaction.cancel(f"cancelled by the controller ({reason[:MAX_REASON]})")
    return True


def _progress_line(report: dict[str, Any]) -> None:
    """A progress report, on its own line before the answer (agent/progress.py). A
    controller that went is noticed between the steps (`stop_reason`), not here."""
    try:
        sys.stdout.write(json.dumps({"progress": report, "version": PROTOCOL_VERSION}) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass


def _answer(line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
        asks = isinstance(request, dict) and request.get("progress") is True
        return handle(request, _progress_line if asks else None)
    except json.JSONDecodeError as error:
        return _failure(f"request is not JSON: {error}")
    except Exception as error:  # a bug: report it, keep serving the session
        traceback.print_exc(file=sys.stderr)
        return _failure(f"internal agent error: {error!r}")


def main() -> None:
    # A connection that goes must not take the agent with it before it has rolled back.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    heap.keep_until_exit()
    requests = Requests(sys.stdin.fileno())
    transaction.SERVED = True
    transaction.stop_reason = requests.stop_reason
    while True:
        due = transaction.deadline()
        line = requests.next_line(None if due is None else max(0.0, due - time.monotonic()))
        if line is None:
            transaction.expire()
            continue
        if not line:
            transaction.expire()
            return
        if not line.strip() or _took_cancel(line):
            continue
        try:
            sys.stdout.write(json.dumps(_answer(line)) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            transaction.expire()
            return


if __name__ == "__main__":
    main()
