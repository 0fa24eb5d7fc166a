"""The boundary every way of reaching a host implements: one call of the agent's JSON protocol."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar


class HostConnection(ABC):
    """An open connection to one host's agent, kept for a whole command."""

    in_process: ClassVar[bool] = False
    """Whether the agent runs in this process: an apply request then carries the
    planner's Step objects as they are, which JSON would only encode and decode again
    (~20 ms for an add's 1,000 hosts-file steps and their undo at N=1,000)."""

    def __init__(self, name: str, underlay: str | None = None) -> None:
        self.name = name
        self.underlay = underlay
        """The host's underlay (interface name or IPv4 address) as the provider knows it,
        e.g. `ul0` on lab hosts, `eth1` on Vagrant VMs; the topology's `hosts:` may override."""

    @abstractmethod
    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one versioned JSON request to the host's agent and return its answer."""

    def call_with_progress(
        self, request: dict[str, Any], progress: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """`call`, with the progress reports the agent sends before its answer (a request
        with `"progress": true`) passed to `progress` as they come. A connection that
        cannot carry them sends the request without asking."""
        return self.call({k: v for k, v in request.items() if k != "progress"})

    def begin(self, request: dict[str, Any]) -> Callable[[], dict[str, Any]]:
        """`call`, begun: what waits for its answer, to be called once. Meanwhile this
        thread is free (the file is loaded while the hosts are observed). By default the
        call runs on a thread of its own: the agent is elsewhere, this process only
        waits for it."""
        import threading

        answer: list[dict[str, Any]] = []
        failure: list[BaseException] = []

        def run() -> None:
            try:
                answer.append(self.call(request))
            except BaseException as error:  # raised again by the waiter, on its thread
                failure.append(error)

        thread = threading.Thread(target=run, name=f"call {self.name}", daemon=True)
        thread.start()

        def result() -> dict[str, Any]:
            thread.join()
            if failure:
                raise failure[0]
            return answer[0]

        return result

    def exec_in(self, spec: dict[str, Any]) -> int:
        """Run a command inside a container of the host (netplan/agent/exec_in.py), this
        process's stdin, stdout and stderr passed through; its exit code."""
        raise NotImplementedError(f"cannot run commands on host {self.name} this way")

    def cancel(self, reason: str) -> None:  # noqa: B027 - a connection that cannot, does nothing
        """Ask the agent to stop the apply it is running, or the next one of this session,
        between two steps and roll back; `reason` names the stop signal (`Ctrl-C`,
        `SIGTERM`). Its answer to the apply then says how that went. Called from another
        thread than the one waiting for that answer."""

    def close(self) -> None:  # noqa: B027 - most connections have nothing to release
        """Release the connection."""
