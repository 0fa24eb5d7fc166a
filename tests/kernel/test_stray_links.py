"""A container's namespace deleted by name (`ip netns del`) while a process still runs in it:
the namespace lives on unnamed, with the container's end of the veth, whose host end still
carries the topology's marker. That end is a stray link of the topology (netplan/agent/
stray.py) once every namespace was looked into: planned as a delete, not a conflict; the
namespace and its veth are made again. Checked with `ip -j link` and `ip -j netns`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from netplan.agent.api import execute, observe
from netplan.agent.resources import ROOT, StrayLink, link_key, veth_marker
from netplan.agent.state import HostState
from netplan.plan.order import plan_host
from tests.kernel.kernel_helpers import container, create, ip, link, network

NETNS = "sl0"
HOST_END = f"nv{NETNS}"


@pytest.fixture
def orphaned(topology: str) -> Iterator[subprocess.Popen[bytes]]:
    """The container made, a process started in it, then its namespace's name deleted."""
    create(topology, *network("slbr0"), *container(NETNS, bridge="slbr0"))
    with subprocess.Popen(["ip", "netns", "exec", NETNS, "sh", "-c", "echo in; exec sleep 600"],
                          stdout=subprocess.PIPE) as process:
        try:
            assert process.stdout is not None and process.stdout.readline() == b"in\n"
            subprocess.run(["ip", "netns", "del", NETNS], check=True)
            yield process
        finally:
            process.kill()  # by its PID; leaving the block waits for it


def test_the_host_end_is_a_stray_link_and_the_container_is_made_again(
    topology: str, orphaned: subprocess.Popen[bytes]
) -> None:
    end = link(HOST_END)
    assert end["ifalias"] == veth_marker(topology, NETNS, "front")
    assert "link_netnsid" in end  # its other end is in a namespace, which has no name
    assert NETNS not in {entry["name"] for entry in ip("netns", "list")}
    observed = observe(topology)
    assert observed.resources[link_key(ROOT, HOST_END)] == StrayLink(
        HOST_END, "veth", "a veth host end whose other end is in none of the topology's "
        "namespaces: in one without a name, or someone else's", "front", NETNS)
    assert link_key(ROOT, HOST_END) not in observed.foreign

    wanted = HostState({r.key: r for r in [*network("slbr0"), *container(NETNS, bridge="slbr0")]})
    plan = plan_host("local", wanted, observed)
    assert plan.conflicts == []
    assert [f"{s.op} {s.resource.key}" for s in plan.steps] == [
        f"delete link:/{HOST_END}", f"create netns:{NETNS}", f"create link:{NETNS}/eth0",
        f"create addr:{NETNS}/eth0/172.31.0.2/24", f"create route:{NETNS}/default"]
    execute(topology, plan.steps)
    [web] = [entry for entry in ip("netns", "list-id") if entry.get("name") == NETNS]
    again = link(HOST_END)
    assert again["link_netnsid"] == web["nsid"] and again["master"] == "slbr0"
    assert plan_host("local", wanted, observe(topology)).empty


def test_a_scoped_observation_leaves_host_ends_it_did_not_look_behind_foreign(
    topology: str, orphaned: subprocess.Popen[bytes]
) -> None:
    """Looking into some namespaces only (verify's re-read: netplan/plan/scope.py), an
    unclaimed host end may be that of a namespace not looked into: not a stray link."""
    observed = observe(topology, inside=[])
    assert link_key(ROOT, HOST_END) not in observed.resources
    assert observed.foreign[link_key(ROOT, HOST_END)].startswith(
        "carries this topology's marker")
    execute(topology, plan_host("local", HostState(), observe(topology)).steps)
    assert HOST_END not in {entry["ifname"] for entry in ip("link", "show")}
