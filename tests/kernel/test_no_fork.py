"""The agent never forks a process per namespace (or at all): everything happens in the
calling thread, through setns'd sockets."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import replace
from typing import NoReturn

import pyroute2.netns
import pytest

from netplan.agent.api import execute, observe
from netplan.agent.resources import Netns, Veth
from netplan.agent.state import Step
from tests.kernel.kernel_helpers import container, network


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
    threads = threading.active_count()
    execute(topology, [Step("create", r) for r in wanted])
    execute(topology, [Step("update", replace(veth, mtu=1400), ("mtu",))])
    assert len(observe(topology).resources) == len(wanted)
    execute(topology, [Step("delete", Netns("c1"))])
    assert threading.active_count() == threads
