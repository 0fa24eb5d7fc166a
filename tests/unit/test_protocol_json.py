"""Requests and answers of the agent protocol survive JSON unchanged (they go over SSH)."""

from __future__ import annotations

import json

from netplan.agent.state import HostState, Step
from netplan.compile import compile_topology
from netplan.plan.order import plan_host
from netplan.topology.model import Topology


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
