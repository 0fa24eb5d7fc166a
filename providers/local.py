"""The `local` provider: this machine, with the agent running in-process."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from providers.base import HostConnection


class LocalConnection(HostConnection):
    """Calls the agent in this process with the same JSON-shaped requests a remote host
    gets (tests/unit/test_protocol_json.py keeps them JSON-clean), without encoding them;
    an observation comes back as the agent's HostState, not its JSON (decoding it again
    took ~6 ms at N=500; tests/kernel/test_protocol.py checks that both are the same);
    an apply request carries the steps as objects (HostConnection.in_process)."""

    in_process = True

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        from netplan.agent.api import handle

        return handle(request, encoded=False)

    def begin(self, request: dict[str, Any]) -> Callable[[], dict[str, Any]]:
        """In a forked child, whose answer comes back pickled: the agent's work here is
        Python, which a thread of this process would only take turns at with the work
        done meanwhile (loading the file)."""
        from netplan.agent.split import WorkerDied, started

        wait = started(partial(self.call, request))

        def answer() -> dict[str, Any]:
            try:
                return wait()
            except WorkerDied as error:  # killed (out of memory?): this host's failure
                return {"ok": False, "error": {"message": f"the agent's process for this "
                                                          f"request ended: {error.strerror}"}}

        return answer

    def call_with_progress(
        self, request: dict[str, Any], progress: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        from netplan.agent.api import handle

        return handle(request, progress, encoded=False)

    def exec_in(self, spec: dict[str, Any]) -> int:
        from netplan.agent.exec_in import run

        return run(spec)

    def cancel(self, reason: str) -> None:
        from netplan.agent import transaction

        transaction.cancel(f"cancelled ({reason})")

    def close(self) -> None:
        """What ends with a remote agent's process ends here: an apply still waiting for
        its confirm is reverted, a stop asked for is forgotten, and the host lock is let
        go. Only an apply loads the transaction module, and only apply and destroy the
        lock's: a check or a show that never did has nothing to revert or let go, and
        does not import them for it."""
        transaction = sys.modules.get("netplan.agent.transaction")
        if transaction is not None:
            transaction.expire()
            transaction.end_session()
        lock = sys.modules.get("netplan.agent.lock")
        if lock is not None:
            lock.release()
