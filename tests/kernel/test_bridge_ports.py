"""A container's bridge port changed by hand with `bridge link`: its STP state (the bridge
forwards nothing through a port that is not forwarding) and the flags that cut traffic
(isolated, flooding). Observed, planned as an update of the veth (never a replace) and
set back, checked with `bridge -j link` and ping; each test ends with an empty plan."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from typing import Any

import pytest

from netplan.agent.api import StepFailed, execute, observe
from netplan.agent.resources import Resource, Veth
from tests.kernel.kernel_helpers import (
    container,
    create,
    keyed,
    network,
    plan,
    run_json,
    sh,
    update,
)

PORT = "nvc0"
"""c0's host end, a port of nbr0."""


def port(dev: str = PORT) -> dict[str, Any]:
    """The port as `bridge -d -j link` shows it."""
    shown: list[dict[str, Any]] = run_json("bridge", "-d", "-j", "link", "show", "dev", dev)
    return shown[0]


def pings(netns: str, address: str) -> bool:
    """One ping, the namespace's neighbour cache flushed first: an entry left probing by
    a ping while the port was cut drops what is queued on it when its probes run out,
    even once the port forwards again."""
    subprocess.run(["ip", "-n", netns, "neigh", "flush", "all"], check=True)
    done = subprocess.run(["ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "1", address],
                          capture_output=True)
    return done.returncode == 0


def two_containers(topology: str) -> tuple[list[Resource], Veth]:
    """c0 and c1 on nbr0, reaching each other; c0's veth."""
    wanted = [*network(), *container("c0", 2), *container("c1", 3)]
    create(topology, *wanted)
    assert pings("c1", "172.31.0.2")
    veth = next(r for r in wanted if isinstance(r, Veth))
    return wanted, veth


def steps(topology: str, wanted: list[Resource]) -> list[str]:
    return [f"{s.op} {s.resource.key} {','.join(s.fields)}" for s in plan(topology, *wanted).steps]


@pytest.mark.parametrize(("number", "state"), [(0, "disabled"), (1, "listening"),
                                               (2, "learning")])
def test_a_port_whose_state_is_changed_by_hand_is_set_forwarding_again(
        topology: str, number: int, state: str) -> None:
    wanted, veth = two_containers(topology)
    sh(f"bridge link set dev {PORT} state {number}")
    assert port()["state"] == state
    assert not pings("c1", "172.31.0.2")
    assert observe(topology).resources[veth.key] == replace(veth, port_state=state)
    assert steps(topology, wanted) == ["update link:c0/eth0 port_state"]
    execute(topology, plan(topology, *wanted).steps)
    assert port()["state"] == "forwarding"
    assert pings("c1", "172.31.0.2")
    assert plan(topology, *wanted).empty


def test_blocking_by_hand_is_undone_by_the_kernel_itself(topology: str) -> None:
    """Without STP the kernel makes a blocking port forwarding at once: nothing to repair."""
    wanted, _ = two_containers(topology)
    sh(f"bridge link set dev {PORT} state 4")
    assert port()["state"] == "forwarding"
    assert plan(topology, *wanted).empty


def test_flags_that_cut_traffic_are_set_back_in_one_update(topology: str) -> None:
    wanted, veth = two_containers(topology)
    sh(f"bridge link set dev {PORT} flood off mcast_flood off bcast_flood off isolated on"
       f" && bridge link set dev nvc1 isolated on")
    assert not pings("c1", "172.31.0.2")  # two isolated ports
    assert steps(topology, wanted) == [
        "update link:c0/eth0 port_isolated,port_flood,port_mcast_flood,port_bcast_flood",
        "update link:c1/eth0 port_isolated"]
    execute(topology, plan(topology, *wanted).steps)
    shown = port()
    assert (shown["isolated"], shown["flood"], shown["mcast_flood"], shown["bcast_flood"]) == (
        False, True, True, True)
    assert port("nvc1")["isolated"] is False
    assert pings("c1", "172.31.0.2")
    assert observe(topology).resources[veth.key] == veth
    assert plan(topology, *wanted).empty


@pytest.mark.parametrize(("down", "repair"), [
    ("ip -n c0 link set eth0 down", "update link:c0/eth0 up"),
    ("ip link set nbr0 down", "update link:/nbr0 up")])
def test_a_port_the_kernel_disabled_for_a_link_down_is_not_drift_of_its_state(
        topology: str, down: str, repair: str) -> None:
    """The kernel disables the port of a link that is down, or of a bridge that is, and
    makes it forwarding once both are up: `up` differs, not the port's state, and its
    update is enough (with the container's default route, which went with its link)."""
    wanted, _ = two_containers(topology)
    sh(f"bridge link set dev {PORT} state 0 && {down}")
    assert port()["state"] == "disabled"
    planned = steps(topology, wanted)
    assert repair in planned and not any("port_" in step for step in planned), planned
    execute(topology, plan(topology, *wanted).steps)
    assert port()["state"] == "forwarding"
    assert pings("c1", "172.31.0.2")
    assert plan(topology, *wanted).empty


def test_under_the_kernels_stp_the_state_cannot_be_set_and_the_error_says_so(
        topology: str) -> None:
    wanted, veth = two_containers(topology)
    sh(f"bridge link set dev {PORT} state 1 && ip link set nbr0 type bridge stp_state 1")
    with pytest.raises(StepFailed) as refused:
        update(topology, veth, "port_state")
    assert refused.value.message == (
        "step 1: cannot update veth c0/eth0: bridge nbr0 runs the kernel's STP, which sets "
        "the state of its ports itself (hint: turn it off with `ip link set nbr0 type bridge "
        "stp_state 0`, or wait for it to make the port forwarding)")
    sh("ip link set nbr0 type bridge stp_state 0")
    assert port()["state"] == "listening"  # stopping STP leaves the state as it was
    execute(topology, plan(topology, *wanted).steps)
    assert port()["state"] == "forwarding"
    assert plan(topology, *wanted).empty


def test_the_observation_matches_what_was_made(topology: str) -> None:
    """A new port forwards, floods and is not isolated: exactly the desired veth."""
    wanted, _ = two_containers(topology)
    assert observe(topology).resources == keyed(*wanted)
