"""The agent's entry points: observe, execute, and `handle` for the versioned JSON protocol.

The same calls run in-process for the local host and, through `python -m netplan.agent`
(one JSON request per line on stdin, one response per line on stdout), on remote hosts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from netplan.agent import execute as _execute
from netplan.agent import observe as _observe
from netplan.agent.errors import AgentFailure, ProtocolError, StepFailed, explain
from netplan.agent.state import PROTOCOL_VERSION, HostState, Step

__all__ = ["AgentFailure", "ProtocolError", "StepFailed", "execute", "handle", "observe"]


def observe(topology: str, underlay: str | None = None) -> HostState:
    """What the kernel has that `topology` owns, and who holds the other names; with
    `underlay` (an interface name or IPv4 address), that underlay's facts too."""
    try:
        return _observe.observe(topology, underlay)
    except OSError as error:
        raise AgentFailure(f"cannot observe the host: {explain(error)}") from error


def execute(topology: str, steps: Sequence[Step]) -> None:
    """Run the steps in order; raises StepFailed naming the first refused step."""
    _execute.execute(topology, steps)


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """One protocol request to its response; failures become an error object, so the
    response is always JSON: {"version", "ok": false, "error": {"message", ...}}."""
    try:
        return {"version": PROTOCOL_VERSION, "ok": True, **_dispatch(request)}
    except AgentFailure as failure:
        return {"version": PROTOCOL_VERSION, "ok": False, "error": failure.to_json()}


def _dispatch(request: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise ProtocolError("a request must be a JSON object")
    version = request.get("version")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version!r} is not supported: this agent "
                            f"speaks version {PROTOCOL_VERSION} (hint: install the same "
                            f"netplan version on the controller and the host)")
    op = request.get("op")
    topology = request.get("topology")
    if not isinstance(topology, str) or not topology:
        raise ProtocolError(f"{op!r} needs a non-empty string 'topology'")
    if op == "observe":
        underlay = request.get("underlay")
        if underlay is not None and not isinstance(underlay, str):
            raise ProtocolError("'underlay' must be a string: an interface name or IPv4 address")
        return {"state": observe(topology, underlay).to_json()}
    if op == "apply":
        execute(topology, _steps(request.get("steps")))
        return {}
    raise ProtocolError(f"unknown op {op!r}: expected 'observe' or 'apply'")


def _steps(data: Any) -> list[Step]:
    if not isinstance(data, list):
        raise ProtocolError("'apply' needs a list 'steps'")
    try:
        return [Step.from_json(item) for item in data]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ProtocolError(f"malformed step: {error!r}") from error
