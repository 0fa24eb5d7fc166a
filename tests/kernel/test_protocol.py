"""The versioned JSON protocol, in-process and as `python -m netplan.agent` over pipes."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from netplan.agent.api import handle
from netplan.agent.resources import Bridge, HostsFile
from netplan.agent.state import PROTOCOL_VERSION, HostState, Step
from tests.kernel.kernel_helpers import BRIDGE_MAC, container, keyed, network, owned


def _apply(topology: str, *steps: Step) -> dict[str, Any]:
    return handle({"version": PROTOCOL_VERSION, "op": "apply", "topology": topology,
                   "steps": [s.to_json() for s in steps]})


def test_apply_then_observe(topology: str) -> None:
    wanted = [*network(), *container("c0")]
    applied = _apply(topology, *(Step("create", r) for r in wanted))
    assert applied == {"version": 2, "ok": True, "done": len(wanted)}
    reply = handle({"version": 2, "op": "observe", "topology": topology})
    assert reply["ok"] and reply["version"] == 2
    assert HostState.from_json(reply["state"]).resources == keyed(*wanted)


def test_the_local_providers_state_is_the_one_its_json_decodes_to(topology: str) -> None:
    """The local provider takes an observation as the agent's object (handle(...,
    encoded=False)); a remote host's comes as JSON. Both must be the same state, down to
    the type of each value, or local and remote hosts would plan differently."""
    wanted = [*network(), *container("c0"), *container("c1", host=3),
              HostsFile("c0", "172.31.0.3 c1\n")]
    _apply(topology, *(Step("create", r) for r in wanted))
    request = {"version": 2, "op": "observe", "topology": topology, "underlay": "lo",
               "interfaces": ["lo", "missing0"], "paths": ["/tmp", "/missing"]}
    local = handle(request, encoded=False)["state"]
    remote = HostState.from_json(json.loads(json.dumps(handle(request)["state"])))
    assert isinstance(local, HostState) and local == remote
    assert local.facts.underlay is not None and local.facts.paths and local.facts.interfaces
    assert local.resources.keys() >= keyed(*wanted).keys()
    for key, resource in local.resources.items():
        twin = remote.resources[key]
        assert [type(v) for v in vars(resource).values()] == [type(v) for v in vars(twin).values()]
    assert [type(v) for v in vars(local.facts).values()] == [
        type(v) for v in vars(remote.facts).values()]


def test_a_refused_step_is_an_error_object(topology: str) -> None:
    bridge = Bridge("nbr0", "front", mtu=1500, mac=BRIDGE_MAC)
    reply = _apply(topology, Step("create", bridge), Step("create", bridge))
    assert reply == {"version": 2, "ok": False, "error": {
        "message": "step 2: cannot create bridge nbr0: already exists", "step": 1,
        "op": "create", "resource": "bridge nbr0", "reason": "already exists", "errno": 17,
        "steps_done": 1, "steps_failed": 1}}


@pytest.mark.parametrize(("request_", "words"), [
    ({"version": 1, "op": "observe", "topology": "t"}, "protocol version 1 is not supported"),
    ({"op": "observe", "topology": "t"}, "protocol version None is not supported"),
    ({"version": 2, "op": "reboot", "topology": "t"}, "unknown op 'reboot'"),
    ({"version": 2, "op": "observe"}, "needs a non-empty string 'topology'"),
    ({"version": 2, "op": "apply", "topology": "t"}, "'apply' needs a list 'steps'"),
    ({"version": 2, "op": "apply", "topology": "t", "steps": [{"op": "create"}]},
     "malformed step"),
    ({"version": 2, "op": "apply", "topology": "t",
      "steps": [{"op": "create", "resource": {"kind": "vlan"}}]}, "malformed step"),
])
def test_bad_requests_get_a_clear_error(request_: dict[str, Any], words: str) -> None:
    reply = handle(request_)
    assert reply["version"] == PROTOCOL_VERSION and reply["ok"] is False
    assert words in reply["error"]["message"]


def test_the_agent_serves_json_lines_on_stdin(topology: str) -> None:
    wanted = [*network(), *container("c0")]
    requests = [
        {"version": 2, "op": "apply", "topology": topology,
         "steps": [Step("create", r).to_json() for r in wanted]},
        {"version": 2, "op": "observe", "topology": topology},
        "not json",
    ]
    agent = subprocess.Popen([sys.executable, "-m", "netplan.agent"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert agent.stdin is not None and agent.stdout is not None
    answers = []
    for request in requests:  # one at a time, as a controller does: its stdin stays open
        agent.stdin.write((request if isinstance(request, str) else json.dumps(request)) + "\n")
        agent.stdin.flush()
        answers.append(json.loads(agent.stdout.readline()))
    agent.stdin.close()
    assert agent.wait(timeout=30) == 0
    agent.stdout.close()
    applied, observed, garbage = answers
    assert applied == {"version": 2, "ok": True, "done": len(wanted)}
    assert HostState.from_json(observed["state"]).resources == keyed(*wanted)
    assert garbage["ok"] is False and "not JSON" in garbage["error"]["message"]
    assert owned(topology) == keyed(*wanted)
