"""The agent's execute of an add, in process, for source trees side by side.

    tests/sandbox.sh .venv/bin/python bench/execute_add.py [--rounds 3] [--runs 5] \
        BASE GROWN TREE [TREE ...]

Applies BASE (a topology file, with this tree's netplan), then, for each round and each
tree in turn (each in its own process), plans GROWN over what the kernel has and times
`netplan.agent.execute.execute` of its steps with a journal (CPU time of the process,
which other work on a shared machine moves less than wall time), then rolls them back
with that journal, `runs` times; prints each process's median. Only the executor is
timed: not the import of its modules, the undo lists or the protocol around it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

WORKER = """
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from netplan.agent.api import observe
from netplan.agent.execute import execute
from netplan.agent.journal import Journal
from netplan.agent.transaction import undo_journal
from netplan.compile import compile_topology
from netplan.plan.inverse import undo_steps
from netplan.plan.order import plan_host
from netplan.topology.loader import load_topology
topology = load_topology(sys.argv[2])
spent = []
for _ in range(int(sys.argv[3])):
    observed = observe(topology.name)
    plan = plan_host("local", compile_topology(topology, {"local": observed})["local"], observed)
    journal = Journal.of(plan.steps, undo_steps(plan), lambda: None)
    started = time.process_time()
    execute(topology.name, plan.steps, journal)
    spent.append(time.process_time() - started)
    rollback = undo_journal(topology.name, journal)
    assert not rollback.failures, rollback.failures
print(json.dumps({"steps": len(plan.steps), "execute": statistics.median(spent)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("base", type=Path)
    parser.add_argument("grown", type=Path)
    parser.add_argument("trees", nargs="+", type=Path)
    options = parser.parse_args()
    subprocess.run([sys.executable, "-m", "netplan", "apply", str(options.base), "--yes",
                    "--replace"], check=True, stdout=subprocess.DEVNULL)
    trees = [tree.resolve() for tree in options.trees]
    results: dict[Path, list[float]] = {tree: [] for tree in trees}
    for round_ in range(options.rounds):
        for tree in trees[round_ % len(trees):] + trees[:round_ % len(trees)]:
            out = subprocess.run(
                [sys.executable, "-c", WORKER, str(tree), str(options.grown), str(options.runs)],
                check=True, capture_output=True, text=True)
            found = json.loads(out.stdout)
            results[tree].append(found["execute"])
            print(f"{tree}: {found['steps']} steps, execute {found['execute'] * 1000:.1f} ms")
    for tree in trees:
        ratio = statistics.median(r / f for r, f in zip(results[tree], results[trees[0]],
                                                         strict=True))
        print(f"{tree}: median {statistics.median(results[tree]) * 1000:.1f} ms (x{ratio:.2f})")


if __name__ == "__main__":
    main()
