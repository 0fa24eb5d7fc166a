"""The planner, table-driven: each fixture in tests/fixtures/plan is observed in, steps out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx
import pytest
import yaml

from netplan.agent.resources import from_json
from netplan.agent.state import HostState
from netplan.plan.changes import SYMBOLS, Change
from netplan.plan.order import dependency_graph, generations, plan_host
from tests.unit.kernel_model import run

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "plan").glob("*.yaml"))


def state(resources: list[dict[str, Any]], foreign: dict[str, str] | None = None) -> HostState:
    result = HostState(foreign=dict(foreign or {}))
    for item in resources:
        result.add(from_json(item))
    return result


def change_text(change: Change) -> str:
    text = f"{SYMBOLS[change.action]} {change.key}"
    if change.fields:
        text += " " + ", ".join(f"{f.field} {f.old} -> {f.new}" for f in change.fields)
    if change.implicit_delete:
        text += " (implicit)"
    return text


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_plan_fixture(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    observed = state(case["observed"]["resources"], case["observed"].get("foreign"))
    host_plan = plan_host("local", state(case["desired"]), observed)

    assert sorted(change_text(c) for c in host_plan.changes) == sorted(case["changes"])
    steps = [
        f"{s.op} {s.resource.key}" + (" " + ",".join(s.fields) if s.fields else "")
        for s in host_plan.steps
    ]
    assert steps == case["steps"]
    conflicts = [f"{c.what} {c.owner}" for c in host_plan.conflicts]
    assert conflicts == case.get("conflicts", [])
    reasons = {c.key: c.reason for c in host_plan.changes}
    for key, reason in case.get("reasons", {}).items():
        assert reasons[key] == reason
    if "differences" in case:  # the lines check and verify print
        assert host_plan.differences() == case["differences"]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_steps_respect_every_dependency(path: Path) -> None:
    """Whatever the tie-breaking, no step comes before one it depends on."""
    case = yaml.safe_load(path.read_text())
    observed = state(case["observed"]["resources"], case["observed"].get("foreign"))
    host_plan = plan_host("local", state(case["desired"]), observed)
    position = {(s.op, s.resource.key): i for i, s in enumerate(host_plan.steps)}
    for after, befores in dependency_graph(host_plan.steps, observed.resources).items():
        for before in befores:
            assert position[before] < position[after]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_generations_are_networkx_topological_generations(path: Path) -> None:
    """graphlib's layers, as the planner takes them, are networkx's (the reference)."""
    case = yaml.safe_load(path.read_text())
    observed = state(case["observed"]["resources"], case["observed"].get("foreign"))
    graph = dependency_graph(plan_host("local", state(case["desired"]), observed).steps,
                             observed.resources)
    reference = networkx.DiGraph()
    reference.add_nodes_from(graph)
    reference.add_edges_from((before, after) for after, befores in graph.items()
                             for before in befores)  # fmt: skip
    assert ([sorted(layer) for layer in generations(graph)]
            == [sorted(layer) for layer in networkx.topological_generations(reference)])


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_applying_the_plan_converges(path: Path) -> None:
    """Simulating the steps on the observed state gives a state whose plan is empty."""
    case = yaml.safe_load(path.read_text())
    desired = state(case["desired"])
    observed = state(case["observed"]["resources"])
    host_plan = plan_host("local", desired, observed)
    after = HostState(resources=dict(observed.resources))
    for change in host_plan.changes:
        if change.action == "delete":
            del after.resources[change.key]
        else:
            assert change.desired is not None
            after.add(change.desired)
    assert plan_host("local", desired, after).changes == []


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_the_steps_converge_on_a_model_of_the_kernel(path: Path) -> None:
    """Run on a kernel that deletes things by itself (a device's routes with its last
    address, a primary address's secondaries: tests/unit/kernel_model.py), the steps in
    their order leave a state whose plan is empty."""
    case = yaml.safe_load(path.read_text())
    desired = state(case["desired"])
    observed = state(case["observed"]["resources"])
    after = run(observed.resources, plan_host("local", desired, observed).steps)
    assert plan_host("local", desired, HostState(resources=after)).changes == []
