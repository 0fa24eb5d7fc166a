"""Time the firewall transaction of N containers x P published ports (a benchmark, not a test).

    tests/sandbox.sh .venv/bin/python tests/kernel/bench_firewall.py [N] [P] [--rounds R]

The topology is compiled as apply compiles it; then the agent step that apply runs for the
inet table is timed: create (one `nft -f -` loading the whole table), update (one rule
changed: the table replaced whole, atomically) and observe (`nft -j list` read back into
canonical form). Prints the median and the slowest of R rounds. Runs only in the sandbox.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace

from netplan.agent import firewall
from netplan.agent.api import execute
from netplan.agent.resources import NftTable
from netplan.agent.state import HostState, Step
from netplan.compile import compile_topology
from netplan.topology.model import Topology

TOPOLOGY = "bench"


def table(containers: int, ports: int) -> NftTable:
    spec = {
        "name": TOPOLOGY,
        "networks": {"front": {"subnet": "172.30.0.0/16"}, "back": {"subnet": "172.31.0.0/16"}},
        "containers": {
            f"c{i}": {
                "networks": ["front" if i % 2 else "back"],
                "publish": [f"{10000 + i * ports + p}:{80 + p}/tcp" for p in range(ports)],
            }
            for i in range(containers)
        },
    }
    desired = compile_topology(Topology.model_validate(spec), {"local": HostState()})["local"]
    found = desired.resources[f"nft:inet/netplan_{TOPOLOGY}"]
    assert isinstance(found, NftTable)
    return found


def timed(rounds: int, action: Callable[[], object], reset: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(rounds):
        reset()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("containers", type=int, nargs="?", default=100)
    parser.add_argument("ports", type=int, nargs="?", default=2)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if os.environ.get("NETPLAN_SANDBOX") != "1":
        sys.exit("run it inside tests/sandbox.sh: it loads nftables rules")
    wanted = table(args.containers, args.ports)
    last = wanted.rules[-1].replace("drop", "accept")
    changed = replace(wanted, rules=(*wanted.rules[:-1], last))

    def create() -> None:
        execute(TOPOLOGY, [Step("create", wanted)])

    def update() -> None:
        execute(TOPOLOGY, [Step("update", changed, ("rules",))])

    def delete() -> None:
        if firewall.observe(TOPOLOGY):
            execute(TOPOLOGY, [Step("delete", wanted)])

    results = {
        "create": timed(args.rounds, create, delete),
        "update": timed(args.rounds, update, create),
        "observe": timed(args.rounds, lambda: firewall.observe(TOPOLOGY), lambda: None),
    }
    delete()
    print(f"{args.containers} containers x {args.ports} ports: {len(wanted.rules)} rules "
          f"in {len(wanted.chains)} chains, {args.rounds} rounds")
    for label, times in results.items():
        print(f"  {label:<8} median {statistics.median(times) * 1000:6.1f} ms   "
              f"max {max(times) * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
