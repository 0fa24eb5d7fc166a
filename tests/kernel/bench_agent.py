"""Time the agent on N containers on one bridge (a benchmark, not a test).

    tests/sandbox.sh .venv/bin/python tests/kernel/bench_agent.py 100 500 [--profile]

Per N: create (netns + veth on the bridge + address + default route per container),
observe twice, check that observed equals desired, destroy. Runs only in the sandbox.
"""

from __future__ import annotations

import cProfile
import ipaddress
import os
import pstats
import sys
import time
from collections.abc import Callable

from netplan.agent.api import execute, observe
from netplan.agent.resources import ROOT, Address, Bridge, Netns, Resource, Route, Veth
from netplan.agent.state import Step

TOPOLOGY = "bench"
SUBNET = ipaddress.ip_network("172.30.0.0/16")


def desired(count: int) -> list[Resource]:
    hosts = SUBNET.hosts()
    gateway = next(hosts)
    wanted: list[Resource] = [
        Bridge("br-bench", "front", mtu=1500),
        Address(ROOT, "br-bench", f"{gateway}/{SUBNET.prefixlen}"),
    ]
    for i in range(count):
        ns = f"bench{i}"
        wanted += [
            Netns(ns),
            Veth(ns, "eth0", f"vb{i}", "br-bench", ns, "front",
                 mac=f"02:42:ac:1e:{i >> 8:02x}:{i & 0xFF:02x}"),
            Address(ns, "eth0", f"{next(hosts)}/{SUBNET.prefixlen}"),
            Route(ns, "default", "eth0", str(gateway)),
        ]
    return wanted


def timed(label: str, action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    elapsed = time.perf_counter() - start
    print(f"  {label:<10} {elapsed:7.3f} s")
    return elapsed


def run(count: int) -> None:
    print(f"N={count}")
    wanted = desired(count)
    timed("create", lambda: execute(TOPOLOGY, [Step("create", r) for r in wanted]))
    timed("observe", lambda: observe(TOPOLOGY))
    timed("observe", lambda: observe(TOPOLOGY))
    observed = observe(TOPOLOGY).resources
    differences = {r.key for r in wanted} ^ set(observed)
    differences |= {r.key for r in wanted if observed.get(r.key) != r}
    print(f"  diff       {len(differences)} resources differ")
    teardown = [Step("delete", r) for r in wanted if isinstance(r, Netns | Bridge)]
    timed("destroy", lambda: execute(TOPOLOGY, teardown))


def main(argv: list[str]) -> None:
    if os.environ.get("NETPLAN_SANDBOX") != "1":
        sys.exit("run me inside the sandbox: tests/sandbox.sh .venv/bin/python " + argv[0])
    counts = [int(a) for a in argv[1:] if not a.startswith("--")] or [100, 500]
    if "--profile" in argv:
        profile = cProfile.Profile()
        profile.runcall(run, counts[0])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        return
    for count in counts:
        run(count)


if __name__ == "__main__":
    main(sys.argv)
