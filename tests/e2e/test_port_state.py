"""A container's bridge port changed with `bridge link`, as a user types it, on
default-bridge.yaml: disabled (the bridge forwards nothing through it: ping 100% loss),
isolated, or not flooded. `check` exits 2 naming it, one `apply` sets it back in place
(the veth keeps its index: not recreated), and `bridge -j link` and ping show the repair."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from netplan.topology.names import veth_name
from tests.e2e.hostview import TOPOLOGIES, Run, assert_drift_repaired, ping, sh

ALPINE1 = veth_name("default-bridge", "alpine1", "bridge")
ALPINE2 = veth_name("default-bridge", "alpine2", "bridge")
"""The host ends of the two containers' veths: ports of docker0."""

FLAGS = [
    (f"bridge link set dev {ALPINE1} flood off",
     r"link:alpine1/eth0\.port_flood: desired True, observed False"),
    (f"bridge link set dev {ALPINE1} mcast_flood off",
     r"link:alpine1/eth0\.port_mcast_flood: desired True, observed False"),
]


def reaches_alpine1() -> bool:
    """alpine2 pings alpine1, its neighbour cache flushed first: the ping the test sent
    while the port was cut left alpine2's entry for alpine1 probing, and the kernel drops
    what is queued on it when the probes run out (FAILED), even once the port forwards
    again."""
    sh("ip -n alpine2 neigh flush all")
    return ping("alpine2", "172.17.0.2")


def port(dev: str) -> dict[str, Any]:
    """The port as `bridge -d -j link` shows it."""
    out = subprocess.run(["bridge", "-d", "-j", "link", "show", "dev", dev],
                         capture_output=True, text=True, check=True).stdout
    shown: dict[str, Any] = json.loads(out)[0]
    return shown


class TestPortDrift:
    TOPOLOGY = TOPOLOGIES / "default-bridge.yaml"

    def test_a_disabled_port_is_drift_and_apply_sets_it_forwarding(
            self, run: Run, applied: Path) -> None:
        index = port(ALPINE1)["ifindex"]
        sh(f"bridge link set dev {ALPINE1} state 0")
        assert port(ALPINE1)["state"] == "disabled"
        assert not ping("alpine2", "172.17.0.2")

        checked = run("check", applied)
        assert checked.returncode == 2, checked.stdout + checked.stderr
        assert ("drift: link:alpine1/eth0.port_state: desired forwarding, observed disabled"
                in checked.stdout), checked.stdout
        planned = run("plan", applied)
        assert "~ veth alpine1/eth0: port_state disabled → forwarding" in planned.stdout

        run("apply", applied, "--yes", check=True)
        assert port(ALPINE1)["state"] == "forwarding"
        assert port(ALPINE1)["ifindex"] == index
        assert reaches_alpine1()
        assert run("plan", applied, "--detailed-exitcode").returncode == 0

    def test_isolated_ports_are_drift_and_apply_lets_them_talk_again(
            self, run: Run, applied: Path) -> None:
        sh(f"bridge link set dev {ALPINE1} isolated on",
           f"bridge link set dev {ALPINE2} isolated on")
        assert not ping("alpine2", "172.17.0.2")
        checked = run("check", applied)
        assert checked.returncode == 2
        for container in ("alpine1", "alpine2"):
            assert (f"link:{container}/eth0.port_isolated: desired False, observed True"
                    in checked.stdout), checked.stdout
        run("apply", applied, "--yes", check=True)
        assert (port(ALPINE1)["isolated"], port(ALPINE2)["isolated"]) == (False, False)
        assert reaches_alpine1()
        assert run("plan", applied, "--detailed-exitcode").returncode == 0

    def test_a_port_that_gets_no_broadcast_is_drift_and_apply_floods_it_again(
            self, run: Run, applied: Path) -> None:
        """No ARP request reaches alpine1: alpine2, its ARP cache flushed, cannot reach it.
        alpine1's is flushed too: its entry for alpine2, used by the replies to the last
        test's ping, may still be due a unicast probe, which would tell alpine2 where
        alpine1 is (one run in ~10 failed so)."""
        sh(f"bridge link set dev {ALPINE1} bcast_flood off", "ip -n alpine1 neigh flush all",
           "ip -n alpine2 neigh flush all")
        assert not ping("alpine2", "172.17.0.2")
        checked = run("check", applied)
        assert checked.returncode == 2
        assert ("link:alpine1/eth0.port_bcast_flood: desired True, observed False"
                in checked.stdout), checked.stdout
        run("apply", applied, "--yes", check=True)
        assert port(ALPINE1)["bcast_flood"] is True
        assert reaches_alpine1()
        assert run("plan", applied, "--detailed-exitcode").returncode == 0

    @pytest.mark.parametrize(("change", "reported"), FLAGS, ids=["flood", "mcast_flood"])
    def test_flooding_turned_off_is_drift_and_apply_turns_it_on(
            self, run: Run, applied: Path, change: str, reported: str) -> None:
        assert_drift_repaired(run, applied, change, reported)
        shown = port(ALPINE1)
        assert (shown["flood"], shown["mcast_flood"]) == (True, True)
