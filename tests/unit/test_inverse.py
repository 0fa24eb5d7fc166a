"""The inverse of a plan, on every planner fixture and on plans between generated topologies
(bridges, overlays across hosts, macvlans: tests/topology_strategies.py): run the first k
steps on a model of the kernel (tests/unit/kernel_model.py: a delete takes what the kernel
deletes with it), then the undo lists of those k steps, last first; the state is the
observed one again, for every k; but for the stray links those steps deleted (nothing
makes one again), and the processes of a namespace that was gone and those steps made
again (deleting it stops the processes recorded in it, as the agent's delete does:
netplan/agent/process.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, reject
from hypothesis import strategies as st

from netplan.agent.resources import HostsFile, Netns, Process, Resource, StrayLink, Veth
from netplan.agent.state import Facts, HostState, Interface
from netplan.compile import compile_topology
from netplan.errors import TopologyError
from netplan.plan.changes import HostPlan
from netplan.plan.inverse import undo_steps
from netplan.plan.order import plan_host
from netplan.topology.loader import load_topology
from tests.fuzzing import fuzz
from tests.topology_strategies import macvlan_topologies, overlay_topologies, topologies
from tests.unit.kernel_model import run
from tests.unit.test_overlay_compile import host
from tests.unit.test_plan import FIXTURES, state


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_undoing_any_prefix_of_a_plan_restores_the_observed_state(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    observed = state(case["observed"]["resources"], case["observed"].get("foreign"))
    assert_every_prefix_undone(plan_host("local", state(case["desired"]), observed))


@fuzz(40)
@given(data=st.data())
def test_every_prefix_of_a_plan_between_two_topologies_is_undone(data: st.DataObject) -> None:
    """The same on generated plans: a topology applied, then a neighbour of it (its
    networks and containers changed in place, moved, gone: tests/topology_strategies.py),
    and the plan from one to the other also converges. A neighbour that gives a container
    an address another one keeps is refused, as apply refuses it, and not tried."""
    assert_neighbour_plans_undone(data, topologies, lambda _, made: made)


@fuzz(30)
@given(data=st.data())
def test_every_prefix_of_an_overlay_plan_on_every_host_is_undone(data: st.DataObject) -> None:
    """The same on every host of generated overlays across two or three hosts, changed to
    a neighbour (containers moved to another host, another VNI, an overlay gone): each
    host's plan, tunnels and peers (FDB, neighbour and static bridge entries) included."""
    assert_neighbour_plans_undone(data, overlay_topologies,
                                  lambda name, made: host(name, state=made))


@fuzz(30)
@given(data=st.data())
def test_every_prefix_of_a_macvlan_plan_is_undone(data: st.DataObject) -> None:
    """The same for generated macvlan networks changed to a neighbour: another parent
    (eth1, or a VLAN of it that netplan makes and removes), another mode, containers moved."""
    assert_neighbour_plans_undone(data, macvlan_topologies, lambda _, made: lan_host(made))


def assert_neighbour_plans_undone(
    data: st.DataObject, drawn: Callable[..., st.SearchStrategy[dict[str, Any]]],
    with_facts: Callable[[str, HostState], HostState],
) -> None:
    """A topology from `drawn()`, compiled for its hosts, then one from `drawn(like=it)`
    compiled against what the first made there (`with_facts` gives a host's state its
    facts): on every host assert_undone_and_converging. A neighbour that compile refuses
    (a static address another container keeps) is not tried."""
    first = data.draw(drawn())
    try:
        applied = desired_states(first, {name: with_facts(name, HostState())
                                         for name in first.get("hosts", ["local"])})
        for name, made in applied.items():
            with_facts(name, made)
        wanted = desired_states(data.draw(drawn(like=first)), applied)
    except TopologyError:
        reject()
    assert_undone_and_converging(applied, wanted)


def lan_host(made: HostState) -> HostState:
    """`made` on a host with the interface eth1 and 802.1Q support."""
    made.facts = Facts(interfaces={"eth1": Interface("", 1500, True)}, vlan_support=True)
    return made


def desired_states(data: dict[str, Any], observed: dict[str, HostState]
                   ) -> dict[str, HostState]:  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "topology.yaml"
        path.write_text(yaml.safe_dump(data))
        return compile_topology(load_topology(path), observed)


def assert_undone_and_converging(applied: dict[str, HostState],
                                 wanted: dict[str, HostState]) -> None:  # fmt: skip
    """On each host, from what `applied` desired to what `wanted` does: every prefix of
    the plan is undone, and the whole plan converges."""
    for name, made in applied.items():
        plan = plan_host(name, wanted[name], made)
        assert_every_prefix_undone(plan)
        after = HostState(resources=run(made.resources, plan.steps))
        assert plan_host(name, wanted[name], after).changes == [], name


def assert_every_prefix_undone(plan: HostPlan) -> None:
    observed = plan.observed
    undo = undo_steps(plan)
    assert len(undo) == len(plan.steps)
    for done in range(len(plan.steps) + 1):
        after = run(observed.resources, plan.steps[:done])
        back = run(after, [step for index in reversed(range(done)) for step in undo[index]])
        made = {s.resource.key for s in plan.steps[:done] if s.op == "create"}
        lost = {s.resource.key for s in plan.steps[:done] if isinstance(s.resource, StrayLink)}
        lost |= {k for k, r in observed.resources.items() if isinstance(r, Process)
                 and r.parent() in made and r.parent() not in observed.resources}
        expected = {k: r for k, r in observed.resources.items() if k not in lost}
        assert back == expected, f"after undoing the first {done} steps"


def test_deleting_a_namespace_is_undone_with_everything_in_it() -> None:
    observed = state([
        {"kind": "netns", "name": "web"},
        {"kind": "bridge", "name": "br0", "network": "front"},
        {"kind": "veth", "netns": "web", "name": "eth0", "peer": "veth1", "bridge": "br0",
         "container": "web", "network": "front", "mac": "02:42:0a:00:00:02"},
        {"kind": "address", "netns": "web", "dev": "eth0", "cidr": "10.0.0.2/24"},
        {"kind": "route", "netns": "web", "dst": "default", "dev": "eth0",
         "gateway": "10.0.0.1"},
    ])  # fmt: skip
    desired = HostState(resources={k: r for k, r in observed.resources.items()
                                   if k == "link:/br0"})  # fmt: skip
    plan = plan_host("local", desired, observed)
    assert [f"{s.op} {s.resource.key}" for s in plan.steps] == ["delete netns:web"]
    (undo,) = undo_steps(plan)
    assert [f"{s.op} {s.resource.key}" for s in undo] == [
        "create netns:web",
        "create link:web/eth0",
        "create addr:web/eth0/10.0.0.2/24",
        "create route:web/default",
    ]
    assert isinstance(undo[0].resource, Netns)
    veth = undo[1].resource
    assert isinstance(veth, Veth) and veth.mac == "02:42:0a:00:00:02"  # as it was


def test_a_stray_links_delete_is_undone_by_nothing() -> None:
    """Its other end is in a namespace no name reaches (netplan/agent/stray.py)."""
    stray = StrayLink("veth1", "veth", "a veth host end whose other end is elsewhere",
                      "front", "web")
    plan = plan_host("local", HostState(), HostState(resources={stray.key: stray}))
    assert [f"{s.op} {s.resource.key}" for s in plan.steps] == ["delete link:/veth1"]
    assert undo_steps(plan) == [[]]


OLD, NEW = "10.0.0.2 web\n", "10.0.0.2 web\n10.0.0.3 db\n"
SLEEP = Process("web", "web", ("sleep", "60"))


@pytest.mark.parametrize(("desired", "observed", "shared"), [
    pytest.param([HostsFile("web", NEW)], [Netns("web"), HostsFile("web", OLD)], True,
                 id="update-shareable"),
    pytest.param([HostsFile("web", NEW, shared=False)], [Netns("web"), HostsFile("web", OLD)],
                 False, id="update-where-a-process-runs"),
    pytest.param([], [Netns("web"), HostsFile("web", OLD)], True, id="delete"),
    pytest.param([], [Netns("web"), HostsFile("web", OLD), SLEEP], False,
                 id="delete-with-its-process"),
])  # fmt: skip
def test_a_hosts_file_put_back_is_shared_only_where_no_process_runs(
    desired: list[Resource], observed: list[Resource], shared: bool
) -> None:
    """The kernel does not say whether a hosts file was shareable (HostsFile.shared): the
    observed file always reads as shareable, and the undo must not link the file of a
    namespace a container's process runs in to the other namespaces' file."""
    with_netns = [Netns("web"), *desired] if desired else []
    plan = plan_host("local", HostState(resources={r.key: r for r in with_netns}),
                     HostState(resources={r.key: r for r in observed}))
    put_back = [s.resource for undo in undo_steps(plan) for s in undo
                if isinstance(s.resource, HostsFile)]  # fmt: skip
    assert [(h.netns, h.digest, h.shared) for h in put_back] == [
        ("web", HostsFile("web", OLD).digest, shared)]
