"""Compile and plan of the incremental add, in process, for two source trees side by side.

    .venv/bin/python bench/compile_plan.py [--n 1000] [--rounds 8] [--runs 9] TREE [TREE ...]

The add of issue 7: the file of N+1 containers on one bridge (bench/ipbatch.py's
Topo(N, 1).grown()) compiled against the state of the N-container file applied, and
planned against it. No kernel: that state is the N-container file compiled against
nothing, which has the addresses, links and hosts-file digests an apply leaves. Each
round runs every tree in its own process (in turn, the first tree alternating), and
each process prints the median of `runs` in-process runs; the summary gives each
tree's median over the rounds and the median of its per-round ratio to the first tree:
on a shared machine, only ratios measured side by side mean something.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WORKER = """
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[2])
from ipbatch import Topo
from netplan.compile import compile_topology
from netplan.plan.order import plan_host
from netplan.topology.loader import load_topology
n, runs, scratch = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
topo = Topo(n, 1)
open(f"{scratch}/base.yaml", "w").write(topo.yaml())
open(f"{scratch}/grown.yaml", "w").write(topo.grown().yaml())
observed = compile_topology(load_topology(f"{scratch}/base.yaml"), {})
grown = load_topology(f"{scratch}/grown.yaml")
compiled, planned = [], []
for _ in range(runs):
    started = time.process_time()
    desired = compile_topology(grown, observed)
    compiled.append(time.process_time() - started)
    started = time.process_time()
    steps = sum(len(plan_host(h, desired[h], observed[h]).steps) for h in desired)
    planned.append(time.process_time() - started)
print(json.dumps({"compile": statistics.median(compiled), "plan": statistics.median(planned),
                  "steps": steps}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("trees", nargs="+", type=Path)
    options = parser.parse_args()
    bench = Path(__file__).resolve().parent
    trees = [tree.resolve() for tree in options.trees]
    results: dict[Path, list[dict[str, float]]] = {tree: [] for tree in trees}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(options.rounds):
            order = trees[round_ % len(trees):] + trees[:round_ % len(trees)]
            for tree in order:
                out = subprocess.run(
                    [sys.executable, "-c", WORKER, str(tree), str(bench), str(options.n),
                     str(options.runs), scratch], check=True, capture_output=True, text=True)
                results[tree].append(json.loads(out.stdout))
    first = results[trees[0]]
    for tree in trees:
        rounds = results[tree]
        line = [f"{tree}: steps {int(rounds[0]['steps'])}"]
        for phase in ("compile", "plan"):
            median = statistics.median(r[phase] for r in rounds) * 1000
            ratio = statistics.median(r[phase] / f[phase]
                                      for r, f in zip(rounds, first, strict=True))
            line.append(f"{phase} {median:.1f} ms (x{ratio:.2f})")
        print(", ".join(line))


if __name__ == "__main__":
    main()
