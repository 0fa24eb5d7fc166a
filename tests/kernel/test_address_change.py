"""A container's address changes: the planner's steps on the real kernel, which deletes a
device's routes with its last IPv4 address (and a primary address's secondaries).

Checked with `ip -j`, ping, and a second plan that is empty; a failed apply is rolled
back to exactly the addresses and routes it found, whichever step it failed at.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Any

import pytest

from netplan.agent import execute as execute_module
from netplan.agent import transaction
from netplan.agent.api import StepFailed, observe
from netplan.agent.resources import ROOT, Address, Bridge, Netns, Resource, Route, Veth
from netplan.agent.state import HostState, Step
from netplan.plan.changes import HostPlan
from netplan.plan.inverse import undo_steps
from netplan.plan.order import plan_host
from tests.kernel.kernel_helpers import BRIDGE_MAC, create, ip, sh


def front(subnet: str, host: int, mac: str | None = None) -> list[Resource]:
    """Bridge nbr0 with the gateway `subnet`.1/24 and container c0 at `subnet`.`host`,
    its MAC `mac` or, as netplan makes it, from its address (`subnet` is 'a.b.c')."""
    a, b, c = (int(part) for part in subnet.split("."))
    return [
        Bridge("nbr0", "front", mtu=1500, mac=BRIDGE_MAC),
        Address(ROOT, "nbr0", f"{subnet}.1/24"),
        Netns("c0"),
        Veth("c0", "eth0", "nvc0", "nbr0", "c0", "front",
             mac=mac or f"02:42:{a:02x}:{b:02x}:{c:02x}:{host:02x}", peer_mtu=1500),
        Address("c0", "eth0", f"{subnet}.{host}/24"),
        Route("c0", "default", "eth0", f"{subnet}.1"),
    ]


def desired(resources: list[Resource]) -> HostState:
    state = HostState()
    for resource in resources:
        state.add(resource)
    return state


def plan_for(topology: str, resources: list[Resource]) -> HostPlan:
    return plan_host("local", desired(resources), observe(topology))


def apply(topology: str, plan: HostPlan) -> None:
    transaction.apply(topology, plan.steps, undo_steps(plan), rollback=True, confirm=None)


def seen() -> dict[str, Any]:
    """What iproute2 says the container and the bridge have."""
    return {"addr": ip("addr", netns="c0"), "route": ip("route", netns="c0"),
            "bridge": ip("addr", "show", "dev", "nbr0")}  # fmt: skip


def default_route() -> list[dict[str, Any]]:
    return [r for r in ip("route", netns="c0") if r["dst"] == "default"]


def can_ping(address: str) -> bool:
    try:
        sh(f"ip netns exec c0 ping -c1 -W2 {address}")
    except Exception:
        return False
    return True


EDITS = {
    "subnet": ("172.30.0", 2, None),
    "static address in the same subnet": ("172.31.0", 50, None),
    # With its MAC kept, nothing else orders the new address after the old one: added
    # first, it would be a secondary, which the kernel deletes with the old primary.
    "lower address in the same subnet, MAC kept": ("172.31.0", 2, "02:42:ac:1f:00:03"),
}


@pytest.fixture
def applied(topology: str) -> Iterator[str]:
    """c0 at 172.31.0.3 on nbr0 (172.31.0.1), made by the agent."""
    create(topology, *front("172.31.0", 3))
    yield topology


@pytest.mark.parametrize(("subnet", "host", "mac"), EDITS.values(), ids=EDITS.keys())
def test_the_default_route_survives_an_address_change(applied: str, subnet: str, host: int,
                                                       mac: str | None) -> None:
    wanted = front(subnet, host, mac)
    plan = plan_for(applied, wanted)
    apply(applied, plan)
    [route] = default_route()
    assert (route["gateway"], route["dev"], route["protocol"]) == (f"{subnet}.1", "eth0", "77")
    eth0 = ip("addr", "show", "dev", "eth0", netns="c0")[0]
    assert [f"{a['local']}/{a['prefixlen']}" for a in eth0["addr_info"]
            if a["family"] == "inet"] == [f"{subnet}.{host}/24"]  # fmt: skip
    assert can_ping(f"{subnet}.1")
    assert plan_for(applied, wanted).empty


@pytest.mark.parametrize(("subnet", "host", "mac"), EDITS.values(), ids=EDITS.keys())
def test_a_failure_at_any_step_is_rolled_back_exactly(applied: str, subnet: str, host: int,
                                                      mac: str | None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel refuses step k (injected: the step is not run, EEXIST is raised in its
    place); the steps before it, their rollback and what the kernel deletes by itself
    along the way are real."""
    before = seen()
    old = front("172.31.0", 3)
    wanted = front(subnet, host, mac)
    steps = plan_for(applied, wanted).steps
    real_run = execute_module.run
    for failing in range(len(steps)):
        plan = plan_for(applied, wanted)
        target = plan.steps[failing]

        def refusing(session: Any, step: Step, target: Step = target) -> None:
            if step is target:
                raise OSError(errno.EEXIST, "injected")
            real_run(session, step)

        monkeypatch.setattr(execute_module, "run", refusing)
        with pytest.raises(StepFailed) as failed:
            apply(applied, plan)
        monkeypatch.setattr(execute_module, "run", real_run)
        assert failed.value.step_index == failing
        rollback = failed.value.rollback
        assert rollback is not None and rollback["failures"] == []
        assert rollback["undone"] == rollback["of"] == failing
        assert seen() == before, f"after a failure at step {failing}: {target}"
        assert can_ping("172.31.0.1")
        assert plan_for(applied, old).empty
