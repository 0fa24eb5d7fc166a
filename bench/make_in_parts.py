"""Whether the kernel makes namespaces, and veth pairs, faster from two processes than from one.

    tests/sandbox.sh .venv/bin/python bench/make_in_parts.py [--n 500] [--rounds 3]

Each round makes N namespaces with netplan's own step (netns.create: unshare, bind mount,
`lo` marked and up) from one process, then N more from two (half each, the second
forked), and prints both times; then the same for N veth pairs onto one bridge with
netplan's veth step (veth.create: peer made inside its namespace, marked, both ends up).
What it measured here is why netplan/agent/netns.create_in_parts splits a run of
namespaces over the CPUs and nothing splits the links: the kernel makes links one at a
time, under its rtnl lock. Run it only in the sandbox: it makes and removes its own
namespaces and bridge.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence

from netplan.agent import bridge, netns, nsutil, veth
from netplan.agent.resources import Bridge, Netns, Veth
from netplan.agent.session import Session

TOPOLOGY = "bench"
BRIDGE = Bridge("mipbr0", "mip")


def make_namespaces(names: Sequence[str]) -> None:
    """As an apply makes them, one step each (netplan/agent/netns.py)."""
    with Session(TOPOLOGY) as session:
        for name in names:
            netns.create(session, Netns(name))


def make_veths(names: Sequence[str]) -> None:
    """As an apply makes a container's veth onto its bridge (netplan/agent/veth.py)."""
    with Session(TOPOLOGY) as session:
        for name in names:
            veth.create(session, Veth(name, "eth0", f"mv{name}", BRIDGE.name, name, "mip"))


def timed(work: Callable[[Sequence[str]], None], names: Sequence[str], processes: int) -> float:
    """Seconds to do `work` for `names` from `processes` processes (1 or 2)."""
    started = time.perf_counter()
    if processes == 1:
        work(names)
    else:
        half = len(names) // 2
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                work(names[half:])
                status = 0
            finally:
                os._exit(status)
        work(names[:half])
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise SystemExit("the second process failed")
    return time.perf_counter() - started


def remove(names: Sequence[str]) -> None:
    for name in names:
        nsutil.remove_named(name)
    time.sleep(2)  # the kernel destroys namespaces in the background


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with Session(TOPOLOGY) as session:
        bridge.create(session, BRIDGE)
    seconds: dict[str, list[float]] = {}
    try:
        for round_ in range(args.rounds):
            for processes in (1, 2):
                names = [f"mip{round_}x{processes}x{i}" for i in range(args.n)]
                made = timed(make_namespaces, names, processes)
                veths = timed(make_veths, names, processes)
                remove(names)
                seconds.setdefault(f"namespaces, {processes} process(es)", []).append(made)
                seconds.setdefault(f"veths, {processes} process(es)", []).append(veths)
                print(f"round {round_}: {processes} process(es): {args.n} namespaces "
                      f"{made:.3f} s, {args.n} veths {veths:.3f} s", flush=True)
    finally:
        with Session(TOPOLOGY) as session:
            bridge.delete(session, BRIDGE)
    for label, values in seconds.items():
        print(f"{label}: median {statistics.median(values):.3f} s "
              f"({min(values):.3f} to {max(values):.3f})")


if __name__ == "__main__":
    main()
