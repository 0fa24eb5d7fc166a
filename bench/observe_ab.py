"""The agent's observation of N containers, in one process pinned to one CPU, for one or
more netplan source trees run alternately (an A/B of a change to the observer); and how
long reading the attributes of the observation's link messages takes, walked
(rtnl.attributes) and picked (links.dump's rtnl.Picker).

Run inside the sandbox, as root:
    tests/sandbox.sh .venv/bin/python bench/observe_ab.py --n 1000 --rounds 7 . /tmp/old

This tree applies the topology (bench/ipbatch.py's, on one bridge) and destroys it at the
end. Each round runs, for each tree (the order swapped every other round), one process
that imports that tree's agent and observes `--repeat` times; a round reports its median.
Whole commands are bench/apply_bench.py's: this isolates the observer's own work, which
the check's whole process (two processes observing, beside the interpreter's start and
the CLI's imports) cannot show on this noisy machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ipbatch import Topo

OBSERVE = """
import os, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from netplan.agent import observe
assert observe.__file__.startswith(sys.argv[1]), observe.__file__
os.sched_setaffinity(0, {0})
seconds = []
for _ in range(int(sys.argv[3])):
    started = time.perf_counter()
    observe.observe(sys.argv[2])
    seconds.append(time.perf_counter() - started)
print(statistics.median(seconds))
"""

DECODE = """
import os, statistics, sys, time
from netplan.agent import observe, rtnl
from netplan.agent.links import Link
os.sched_setaffinity(0, {0})
captured = []
made = rtnl.Reply.__init__
def keep(reply, data, flags, header, picker=None):
    made(reply, data, flags, header, picker)
    if picker is not None:
        captured.append((bytes(reply.body), header))
rtnl.Reply.__init__ = keep
observe.observe(sys.argv[1])
rtnl.Reply.__init__ = made
walked, picked = [], []
for _ in range(7):
    started = time.perf_counter()
    for body, header in captured:
        rtnl.attributes(body, header, len(body))
    walked.append(time.perf_counter() - started)
    picker = rtnl.Picker(Link.DECODED)
    started = time.perf_counter()
    for body, header in captured:
        picker.pick(body, header)
    picked.append(time.perf_counter() - started)
print(len(captured), statistics.median(walked), statistics.median(picked))
"""


def netplan(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "netplan", *args], check=True,
                   stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="netplan source trees")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="observations per process")
    options = parser.parse_args()
    if os.environ.get("NETPLAN_SANDBOX") != "1":
        sys.exit("run it inside tests/sandbox.sh: it creates namespaces")
    trees = [str(tree.resolve()) for tree in options.trees]
    topo = Topo(options.n, 1)
    medians: dict[str, list[float]] = {tree: [] for tree in trees}
    with tempfile.TemporaryDirectory() as scratch:
        file = Path(scratch, "topology.yaml")
        file.write_text(topo.yaml())
        netplan("apply", str(file), "--yes", "--replace")
        try:
            for round_ in range(options.rounds):
                for tree in trees if round_ % 2 == 0 else trees[::-1]:
                    out = subprocess.run([sys.executable, "-c", OBSERVE, tree, topo.name,
                                          str(options.repeat)], check=True,
                                         capture_output=True, text=True).stdout  # fmt: skip
                    medians[tree].append(float(out))
            count, walked, picked = subprocess.run(
                [sys.executable, "-c", DECODE, topo.name], check=True, capture_output=True,
                text=True).stdout.split()
        finally:
            netplan("destroy", str(file), "--yes")
    for tree, found in medians.items():
        print(f"{tree}: observe N={options.n} on one CPU, median of {options.rounds} rounds "
              f"{statistics.median(found):.3f} s (rounds {min(found):.3f} to {max(found):.3f})")
    print(f"this tree: the observation's {count} link messages read: walked "
          f"{float(walked) * 1000:.1f} ms, picked {float(picked) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
