"""Requests and answers of the agent protocol survive JSON unchanged (they go over SSH)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from netplan.agent.api import _steps
from netplan.agent.errors import ProtocolError
from netplan.agent.state import HostState, Step
from netplan.compile import compile_topology
from netplan.plan.order import plan_host
from netplan.rollback import _sent
from netplan.topology.model import Topology
from providers.base import HostConnection
from providers.local import LocalConnection


def test_plan_steps_and_states_round_trip_through_json() -> None:
    topology = Topology.model_validate(
        {
            "name": "t",
            "networks": {"n": {"subnet": "10.0.0.0/24", "mtu": 1400}},
            "containers": {"a": {"networks": ["n"]}, "b": {"network_mode": "none"}},
        }
    )
    desired = compile_topology(topology, {"local": HostState()})["local"]
    steps = [s.to_json() for s in plan_host("local", desired, HostState()).steps]
    assert json.loads(json.dumps(steps)) == steps
    assert [Step.from_json(s) for s in steps] == plan_host("local", desired, HostState()).steps
    state = desired.to_json()
    assert HostState.from_json(json.loads(json.dumps(state))).resources == desired.resources


def test_an_in_process_agent_takes_the_planners_steps_as_they_are() -> None:
    """The local provider's apply request carries Step objects (JSON would only encode
    and decode them again); a remote host's carries their JSON, and an agent reading
    JSON refuses anything else."""
    topology = Topology.model_validate(
        {"name": "t", "networks": {"n": {"subnet": "10.0.0.0/24"}},
         "containers": {"a": {"networks": ["n"]}}}
    )
    desired = compile_topology(topology, {"local": HostState()})["local"]
    steps = plan_host("local", desired, HostState()).steps
    sent = _sent(LocalConnection("local"), steps)
    assert all(a is b for a, b in zip(sent, steps, strict=True))
    assert _steps(sent, encoded=False) == steps
    remote = _sent(_Remote("far"), steps)
    assert remote == [s.to_json() for s in steps]
    assert _steps(remote) == _steps(remote, encoded=False) == steps
    with pytest.raises(ProtocolError, match="malformed step"):
        _steps(sent)


class _Remote(HostConnection):
    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("not called")
