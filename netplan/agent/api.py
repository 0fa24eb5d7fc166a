"""The agent's entry points: observe, execute, and `handle` for the versioned JSON protocol.

The same calls run in-process for the local host and, through `python -m netplan.agent`
(one JSON request per line on stdin, one response per line on stdout), on remote hosts.
Each request imports what it uses: a check or a show observes only (~9 ms less to
import than everything), and a check reading the last-applied record in this process
while a forked child observes (netplan/pipeline.py, observe_beside) does not import
the observer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from netplan.agent import progress as _progress
from netplan.agent.errors import AgentFailure, ProtocolError, StepFailed, explain
from netplan.agent.state import PROTOCOL_VERSION, HostState, Step

__all__ = ["AgentFailure", "ProtocolError", "StepFailed", "execute", "handle", "observe"]

TOPOLOGY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
"""The model's rule for names (netplan/topology/model.py), checked again here: the agent
runs as root and makes paths from it, whoever sent the request."""
MAX_CONFIRM = 3600.0
"""The longest `apply --confirm` window, in seconds."""


def observe(topology: str, underlay: str | None = None,
            interfaces: list[str] | None = None, paths: list[str] | None = None,
            inside: list[str] | None = None, root: bool = True,
            ports: bool = False, local_ips: bool = False, owners: bool = False,
            hosts: bool = False, reserved: bool = False) -> HostState:
    """What the kernel has that `topology` owns, and who holds the other names; with
    `underlay` (an interface name or IPv4 address), that underlay's facts too, and with
    `interfaces`, which of them exist, and with `paths` (host paths), what each is, and
    with `ports`, the host ports others take, and with `local_ips`, the host's IPv4
    addresses, and with `owners`, whose the other named namespaces are, and with
    `hosts`, the text of each hosts file beside its digest, and with `reserved`, what
    Docker keeps out of its default pools there (Facts.reserved). With `inside`,
    the named namespaces looked into are only those; with `root` false, the root
    namespace's own objects are left out (netplan/agent/observe.py)."""
    from netplan.agent import observe as _observe

    try:
        return _observe.observe(topology, underlay, interfaces, paths, inside, root, ports,
                                local_ips, owners, hosts, reserved)
    except OSError as error:
        raise AgentFailure(f"cannot observe the host: {explain(error)}") from error


def execute(topology: str, steps: Sequence[Step]) -> None:
    """Run the steps in order; raises StepFailed naming the first refused step."""
    from netplan.agent import execute as _execute

    _execute.execute(topology, steps)


def handle(
    request: dict[str, Any], progress: _progress.Sink | None = None, encoded: bool = True
) -> dict[str, Any]:
    """One protocol request to its response; failures become an error object, so the
    response is always JSON: {"version", "ok": false, "error": {"message", ...}}.
    `progress` gets the request's progress reports (agent/progress.py) as they happen.
    Not `encoded` (the local provider, in this process): an observation's `state` is
    the HostState itself, not its JSON, which the caller would only decode again."""
    try:
        with _progress.reporting(progress):
            return {"version": PROTOCOL_VERSION, "ok": True, **_dispatch(request, encoded)}
    except AgentFailure as failure:
        error = failure.to_json()
        if failure.rollback is not None:
            error["rollback"] = failure.rollback
        if failure.counted is not None:
            error["steps_done"], error["steps_failed"] = failure.counted
        return {"version": PROTOCOL_VERSION, "ok": False, "error": error}


def _dispatch(request: dict[str, Any], encoded: bool) -> dict[str, Any]:
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
    if not TOPOLOGY_NAME.fullmatch(topology):
        raise ProtocolError(f"topology name {topology!r} is not a name netplan makes "
                            "(it becomes a path under /run/netplan and an nftables table)")
    if op == "observe":
        underlay = request.get("underlay")
        if underlay is not None and not isinstance(underlay, str):
            raise ProtocolError("'underlay' must be a string: an interface name or IPv4 address")
        interfaces = request.get("interfaces")
        if interfaces is not None and not (
            isinstance(interfaces, list) and all(isinstance(i, str) for i in interfaces)
        ):
            raise ProtocolError("'interfaces' must be a list of interface names")
        paths = request.get("paths")
        if paths is not None and not (
            isinstance(paths, list) and all(isinstance(p, str) for p in paths)
        ):
            raise ProtocolError("'paths' must be a list of host paths")
        inside = request.get("inside")
        if inside is not None and not (
            isinstance(inside, list) and all(isinstance(n, str) for n in inside)
        ):
            raise ProtocolError("'inside' must be a list of namespace names")
        root = request.get("root", True)
        if not isinstance(root, bool):
            raise ProtocolError("'root' must be true or false")
        with_record, with_source = request.get("record", False), request.get("source", False)
        for key, value in (("record", with_record), ("source", with_source)):
            if not isinstance(value, bool):
                raise ProtocolError(f"'{key}' must be true or false")
        ports, local_ips = request.get("ports", False), request.get("local_ips", False)
        owners, hosts = request.get("owners", False), request.get("hosts", False)
        reserved = request.get("reserved", False)
        for key, value in (("ports", ports), ("local_ips", local_ips), ("owners", owners),
                           ("hosts", hosts), ("reserved", reserved)):
            if not isinstance(value, bool):
                raise ProtocolError(f"'{key}' must be true or false")
        if not root and (underlay is not None or interfaces or ports or local_ips or reserved):
            raise ProtocolError("'root': false leaves out the root namespace, which "
                                "'underlay', 'interfaces', 'ports', 'local_ips' and "
                                "'reserved' are read from")
        state = observe(topology, underlay, interfaces, paths, inside, root, ports, local_ips,
                        owners, hosts, reserved)
        answer: dict[str, Any] = {"state": state.to_json() if encoded else state}
        if with_record:  # a check reads it too: in the same round trip
            from netplan.agent import record

            answer["record"] = record.read(topology)
        if with_source:  # apply and destroy: which file the last apply was made from
            from netplan.agent import record

            answer["source"] = record.source(topology)
        return answer
    if op == "apply":
        return _apply(topology, request, encoded)
    if op in ("lock", "unlock"):
        from netplan.agent import lock

        return lock.handle(request)
    if op in ("confirm", "revert"):
        from netplan.agent import transaction

        return transaction.handle(op, request)
    if op == "record":
        from netplan.agent import record

        return record.handle(topology, request)
    if op == "probe":
        from netplan.agent import probe

        return probe.handle(topology, request)
    if op == "logs":
        from netplan.agent import logs

        return logs.handle(topology, request)
    raise ProtocolError(
        f"unknown op {op!r}: expected 'observe', 'apply', 'record', 'probe', 'logs', "
        "'lock', 'unlock', 'confirm' or 'revert'"
    )


def _apply(topology: str, request: dict[str, Any], encoded: bool = True) -> dict[str, Any]:
    """`{"op": "apply", "steps": [...], "undo": [[...], ...], "rollback": true,
    "confirm": SECONDS}`: without `undo`, nothing can be rolled back. Not `encoded` (the
    local provider, in this process): the steps may be the planner's Step objects."""
    steps = _steps(request.get("steps"), encoded)
    undo_data = request.get("undo")
    undo = None
    if undo_data is not None:
        if not isinstance(undo_data, list):
            raise ProtocolError("'undo' must be a list with one list of steps per step")
        undo = [_steps(item, encoded) for item in undo_data]
        if len(undo) != len(steps):
            raise ProtocolError(f"{len(undo)} undo lists for {len(steps)} steps")
    confirm = request.get("confirm")
    if confirm is not None and (isinstance(confirm, bool) or not isinstance(confirm, (int, float))
                                or not 0 < confirm <= MAX_CONFIRM):
        raise ProtocolError(f"'confirm' must be a number of seconds (0 to {MAX_CONFIRM:g})")
    rollback = request.get("rollback", undo is not None)
    if not isinstance(rollback, bool):
        raise ProtocolError("'rollback' must be true or false")
    from netplan.agent import transaction

    return transaction.apply(topology, steps, undo, rollback and undo is not None, confirm)


def _steps(data: Any, encoded: bool = True) -> list[Step]:
    if not isinstance(data, list):
        raise ProtocolError("'apply' needs a list 'steps'")
    try:
        if not encoded:
            return [item if type(item) is Step else Step.from_json(item) for item in data]
        return [Step.from_json(item) for item in data]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ProtocolError(f"malformed step: {error!r}") from error
