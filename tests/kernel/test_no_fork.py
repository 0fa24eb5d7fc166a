"""The agent never forks a process per namespace: everything happens in the calling
thread, through setns'd sockets. Only an observation of many namespaces is split over
the CPUs, one process each (netplan/agent/split.py), and it sees what one process sees;
making many namespaces is split the same way (tests/kernel/test_namespaces_in_parts.py)."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import replace
from typing import NoReturn

import pyroute2.netns
import pytest

from netplan.agent import observe as observe_module
from netplan.agent.api import execute, observe
from netplan.agent.resources import Netns, Veth
from netplan.agent.state import Step
from tests.kernel.kernel_helpers import container, network, sh, splits_counted


def _forbidden(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError("the agent started a process")


def test_observe_and_execute_start_no_process(topology: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = [*network(), *container("c0"), *container("c1", host=3)]
    veth = next(r for r in wanted if isinstance(r, Veth))
    for module, name in [(os, "fork"), (os, "forkpty"), (os, "posix_spawn"),
                         (os, "posix_spawnp"), (os, "system"), (subprocess, "Popen"),
                         (pyroute2.netns, "create"), (pyroute2.netns, "setns")]:
        monkeypatch.setattr(module, name, _forbidden)
    threads = set(threading.enumerate())  # another test's may still be ending
    execute(topology, [Step("create", r) for r in wanted])
    execute(topology, [Step("update", replace(veth, mtu=1400), ("mtu",))])
    assert len(observe(topology).resources) == len(wanted)
    execute(topology, [Step("delete", Netns("c1"))])
    assert set(threading.enumerate()) <= threads


def test_an_observation_split_over_processes_sees_what_one_process_sees(
        topology: str, monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = [*network()]
    for host in range(2, 9):
        wanted += container(f"c{host}", host=host)
    execute(topology, [Step("create", r) for r in wanted])
    sh("ip netns add zz-not-ours")
    try:
        one = observe(topology)
        some = observe(topology, inside=["c3", "c7", "zz-not-ours"], root=False)
        monkeypatch.setattr(observe_module, "NAMESPACES_PER_PROCESS", 2)
        forked = splits_counted(monkeypatch, cpus=3)
        assert observe(topology) == one
        assert observe(topology, inside=["c3", "c7", "zz-not-ours"], root=False) == some
        assert forked == [3, 1]  # 8 namespaces in 3 processes; 3 namespaces in one
        assert list(one.resources) == list(observe(topology).resources)  # the same order
        assert one.foreign["netns:zz-not-ours"] == "is not managed by netplan"
    finally:
        sh("ip netns del zz-not-ours")
    assert len(one.resources) == len(wanted)
