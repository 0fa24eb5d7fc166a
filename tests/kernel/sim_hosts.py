"""Several hosts inside the kernel-test sandbox, without the lab: each a network
namespace with its own /run/netns (so `ip netns` lists differ per host), /etc/netns and
/run/netplan (hosts files, records and locks are per host), all on one
underlay bridge, and each driven by `python -m netplan.agent` run inside it and spoken
to through PipeConnection, the JSON-lines protocol on the child's stdin and stdout.

A host's namespaces are held by a `sleep` started in them (its network namespace, and a
mount namespace with those private directories): agents and commands enter them with
nsenter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netplan import pipeline
from netplan.compile import compile_topology, outline_of
from netplan.errors import NetplanError
from netplan.plan.changes import HostPlan
from netplan.topology.model import Topology
from providers.base import HostConnection
from tests.kernel.kernel_helpers import run_json, sh

UNDERLAY_BRIDGE = "ulbr0"
UNDERLAY = "ul0"
NO_IPV6 = "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1"
"""Quiet underlays: no router solicitations or MLD reports in the packet counts."""
HOLD = ("for dir in /run/netns /etc/netns /run/netplan; do "
        "mount -t tmpfs -o mode=755 netplan-host $dir || exit 1; done; exec sleep infinity")


class PipeConnection(HostConnection):
    """A host's agent as a child process: one JSON request per line on its stdin, one
    response per line on its stdout (what the SSH transport does over a channel)."""

    def __init__(self, name: str, command: list[str], underlay: str | None = None) -> None:
        super().__init__(name, underlay)
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise NetplanError(f"host {self.name}: the agent exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


@dataclass
class SimHost:
    name: str
    address: str
    """Its underlay address (on ul0)."""
    holder: subprocess.Popen[bytes]

    @property
    def netns(self) -> str:
        """The host's network namespace, as the sandbox names it."""
        return f"sim-{self.name}"

    def enter(self) -> list[str]:
        return ["nsenter", "-t", str(self.holder.pid), "-m", "-n", "--"]

    def connect(self) -> PipeConnection:
        return PipeConnection(self.name, [*self.enter(), sys.executable, "-m", "netplan.agent"],
                              UNDERLAY)

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.enter(), *command], check=check, capture_output=True,
                              text=True)

    def json(self, *command: str) -> Any:
        out = self.run(*command).stdout
        return json.loads(out) if out.strip() else []

    def ping(self, container: str, target: str, *options: str) -> bool:
        done = self.run("ip", "netns", "exec", container, "ping", "-q", "-c", "1", "-W", "2",
                        *options, target, check=False)
        return done.returncode == 0

    def underlay_packets(self) -> tuple[int, int]:
        """(sent, received) packets on the host's underlay interface."""
        [shown] = run_json("ip", "-n", self.netns, "-s", "-j", "link", "show", UNDERLAY)
        stats = shown["stats64"]
        return stats["tx"]["packets"], stats["rx"]["packets"]

    def quiet_underlay(self, idle: float = 1.2, longest: float = 8.0) -> tuple[int, int]:
        """The packet counts once the underlay has been idle for `idle` seconds: a new
        bridge joins the all-snoopers group (224.0.0.106) with two IGMPv3 reports, up to
        a second apart, which the tunnels carry to every host once."""
        deadline = time.monotonic() + longest
        counts = self.underlay_packets()
        while time.monotonic() < deadline:
            time.sleep(idle)
            now = self.underlay_packets()
            if now == counts:
                return now
            counts = now
        raise AssertionError(f"the underlay of {self.name} does not go quiet")


def _start(name: str, index: int) -> SimHost:
    netns, address = f"sim-{name}", f"192.168.77.{11 + index}"
    sh(f"ip netns add {netns} && ip netns exec {netns} {NO_IPV6}"
       f" && ip link add ul-{name} type veth peer name {UNDERLAY} netns {netns}"
       f" && ip link set ul-{name} master {UNDERLAY_BRIDGE} up"
       f" && ip -n {netns} addr add {address}/24 dev {UNDERLAY}"
       f" && ip -n {netns} link set {UNDERLAY} up && ip -n {netns} link set lo up")
    holder = subprocess.Popen(["ip", "netns", "exec", netns, "unshare", "--mount",
                               "--propagation", "private", "sh", "-c", HOLD])
    comm = Path(f"/proc/{holder.pid}/comm")
    deadline = time.monotonic() + 10
    while comm.read_text().strip() != "sleep":  # /run/netns is its own from then on
        assert time.monotonic() < deadline and holder.poll() is None, f"{name} did not start"
        time.sleep(0.01)
    return SimHost(name, address, holder)


def _know_each_other(hosts: list[SimHost]) -> None:
    """Permanent underlay neighbours: no ARP between VTEPs in the packet counts."""
    macs = {h.name: run_json("ip", "-n", h.netns, "-j", "link", "show", UNDERLAY)[0]["address"]
            for h in hosts}
    for host in hosts:
        for peer in hosts:
            if peer is not host:
                sh(f"ip -n {host.netns} neigh replace {peer.address} lladdr {macs[peer.name]}"
                   f" dev {UNDERLAY} nud permanent")


@contextmanager
def simulated_hosts(*names: str) -> Iterator[dict[str, SimHost]]:
    sh(f"{NO_IPV6} && ip link add {UNDERLAY_BRIDGE} type bridge"
       f" && ip link set {UNDERLAY_BRIDGE} up")
    hosts: list[SimHost] = []
    try:
        for index, name in enumerate(names):
            hosts.append(_start(name, index))
        _know_each_other(hosts)
        yield {host.name: host for host in hosts}
    finally:
        for host in hosts:
            host.holder.terminate()
            host.holder.wait()
            sh(f"ip link del ul-{host.name} && ip netns del {host.netns}")  # at once
        sh(f"ip link del {UNDERLAY_BRIDGE}")


@contextmanager
def connected(hosts: dict[str, SimHost], topology: Topology) -> Iterator[pipeline.Hosts]:
    """An agent on each host the topology names, as the pipeline's Hosts."""
    connections = pipeline.Hosts()
    connections.update({name: hosts[name].connect() for name in topology.hosts})
    with connections:
        yield connections


def converge(hosts: dict[str, SimHost], topology: Topology,
             destroy: bool = False) -> dict[str, HostPlan]:
    """Plan, apply and verify on every host; then a second plan must be empty. Returns
    the plans that were applied."""
    outline = outline_of(topology)

    def planned(connections: pipeline.Hosts) -> dict[str, HostPlan]:
        observed = pipeline.observe(outline, connections)
        return pipeline.plan({} if destroy else compile_topology(topology, observed), observed)

    with connected(hosts, topology) as connections:
        plans = planned(connections)
        pipeline.execute(outline, plans, connections)
        pipeline.verify(outline, connections, plans)
        assert not connections.failed, connections.failed
        again = planned(connections)
        assert all(plan.empty for plan in again.values()), again
    return plans
