"""Stopping a container's process ends every process inside the container, as Docker
does, and nothing outside it: what the process detached from its group (setsid), what
is left in a namespace being deleted, and nothing of the test's own, of a container
sharing the namespace, or of a `host` mode container's neighbours. Processes are seen
through `ip netns pids` and `ps`; a deleted namespace is freed at once (settle never
has to delete a veth end held by a process left inside)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest

from netplan.agent import netns as netns_module
from netplan.agent import process_record as records
from netplan.agent.resources import ROOT, Netns, Process
from tests.kernel.kernel_helpers import container, create, delete, ip, network, plan

DETACHING = "setsid sleep {} & exec sleep {}"
"""A process that leaves a child outside its process group; distinct durations name them."""


@pytest.fixture
def outside() -> Iterator[subprocess.Popen[bytes]]:
    """A process of the test's own, in the namespaces the agent runs in."""
    proc = subprocess.Popen(["sleep", "3001"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def forced_link_deletes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The veth ends settle() had to delete because their namespace lived on."""
    forced: list[int] = []
    delete_link = netns_module._delete_link

    def noted(sock: object, index: int) -> None:
        forced.append(index)
        delete_link(sock, index)  # type: ignore[arg-type]

    monkeypatch.setattr(netns_module, "_delete_link", noted)
    return forced


def detaching(name: str, netns: str, child: int, leader: int) -> Process:
    return Process(name, netns, ("/bin/sh", "-c", DETACHING.format(child, leader)),
                   stop_timeout=1)


def recorded_pid(topology: str, name: str) -> int:
    record = records.read(records.directory(topology, name))
    assert record is not None
    return record.pid


def children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout
    return {int(word) for word in out.split()}


def netns_pids(netns: str) -> set[int]:
    out = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True,
                         check=True).stdout
    return {int(word) for word in out.split()}


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"still not {what}"
        time.sleep(0.02)


def detached_child(leader: int) -> int:
    wait_for(lambda: bool(children(leader)), "detached")
    [child] = children(leader)
    assert os.getsid(child) != os.getsid(leader)  # out of the recorded group
    return child


def test_deleting_a_namespace_ends_what_its_process_detached(
    topology: str, outside: subprocess.Popen[bytes], forced_link_deletes: list[int]
) -> None:
    web = detaching("web", "c0", 911, 1911)
    create(topology, *network(), *container("c0"), web)
    leader = recorded_pid(topology, "web")
    child = detached_child(leader)
    assert netns_pids("c0") == {leader, child}

    delete(topology, Netns("c0"))
    assert not alive(leader) and not alive(child)
    assert forced_link_deletes == []  # the namespace was freed, not held on
    assert "nvc0" not in {entry["ifname"] for entry in ip("link", "show")}
    assert outside.poll() is None
    assert plan(topology, *network()).steps == []


def test_deleting_a_namespace_ends_what_is_left_inside_after_its_process_ended(
    topology: str, outside: subprocess.Popen[bytes], forced_link_deletes: list[int]
) -> None:
    """The recorded process has exited, its detached child has not; a process someone
    started with `ip netns exec`: all of them are inside the namespace."""
    web = detaching("web", "c0", 912, 1912)
    create(topology, *network(), *container("c0"), web)
    leader = recorded_pid(topology, "web")
    child = detached_child(leader)
    os.kill(leader, 9)
    wait_for(lambda: not alive(leader), "ended")
    by_hand = subprocess.Popen(["ip", "netns", "exec", "c0", "sleep", "3002"])
    try:
        wait_for(lambda: by_hand.pid in netns_pids("c0"), "inside")
        delete(topology, Netns("c0"))
        assert by_hand.poll() == -15  # ended by SIGTERM, given first
    finally:
        by_hand.kill()
        by_hand.wait()
    assert not alive(child)
    assert forced_link_deletes == []
    assert outside.poll() is None
    assert plan(topology, *network()).steps == []


def test_replacing_a_process_ends_only_what_it_detached(
    topology: str, outside: subprocess.Popen[bytes]
) -> None:
    """A sidecar sharing the namespace and a `host` mode container (the test's own
    neighbour) keep their processes; the `host` mode one, stopped, takes only its own."""
    web = detaching("web", "c0", 913, 1913)
    sidecar = detaching("sidecar", "c0", 914, 1914)
    on_host = detaching("on-host", ROOT, 915, 1915)
    create(topology, *network(), *container("c0"), web, sidecar, on_host)
    pids = {name: recorded_pid(topology, name) for name in ("web", "sidecar", "on-host")}
    detached = {name: detached_child(pid) for name, pid in pids.items()}

    delete(topology, web)
    again = detaching("web", "c0", 916, 1916)
    create(topology, again)
    assert not alive(pids["web"]) and not alive(detached["web"])
    kept = [pids["sidecar"], detached["sidecar"], pids["on-host"], detached["on-host"]]
    assert all(alive(pid) for pid in kept)
    assert netns_pids("c0") >= {pids["sidecar"], detached["sidecar"]}

    delete(topology, on_host)
    assert not alive(pids["on-host"]) and not alive(detached["on-host"])
    assert alive(pids["sidecar"]) and outside.poll() is None
    assert plan(topology, *network(), *container("c0"), again, sidecar).steps == []
