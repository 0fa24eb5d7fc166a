"""Adding one container at size N against the no-op check at N, for one or more netplan
source trees run alternately in the same rounds (an A/B of a change: the add's target is
a difference of two whole processes, smaller than this machine's noise, so it needs
many rounds and the trees interleaved).

Run inside the sandbox, as root:
    tests/sandbox.sh .venv/bin/python bench/add_vs_check.py --n 1000 --rounds 10 . /tmp/old

Each round, for each tree: `netplan check` at N, `netplan apply` of N+1 (timed), then the
extra container is removed again (untimed). Every tree's .py files are compiled first.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ipbatch import Topo


def timed(tree: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "netplan", *args], cwd=tree, check=True,
                   stdout=subprocess.DEVNULL, env=_env())
    return time.perf_counter() - started


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="netplan source trees")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    options = parser.parse_args()
    if os.environ.get("NETPLAN_SANDBOX") != "1":
        sys.exit("run it inside tests/sandbox.sh: it creates namespaces")
    trees = [tree.resolve() for tree in options.trees]
    for tree in trees:
        compileall.compile_dir(tree / "netplan", quiet=1)
        compileall.compile_dir(tree / "providers", quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        topo = Topo(options.n, 1)
        base, grown = Path(scratch, "base.yaml"), Path(scratch, "grown.yaml")
        base.write_text(topo.yaml())
        grown.write_text(topo.grown().yaml())
        timed(trees[0], "apply", str(base), "--yes")
        results: dict[Path, list[tuple[float, float]]] = {tree: [] for tree in trees}
        for round_ in range(options.rounds):
            for tree in trees:
                check = timed(tree, "check", str(base))
                add = timed(tree, "apply", str(grown), "--yes")
                timed(tree, "apply", str(base), "--yes")
                results[tree].append((check, add))
                print(f"round {round_} {tree}: check {check:.3f} s, add {add:.3f} s, "
                      f"add - check {add - check:+.3f} s", flush=True)
        timed(trees[0], "destroy", str(base), "--yes")
    for tree, pairs in results.items():
        checks, adds = [c for c, _ in pairs], [a for _, a in pairs]
        differences = [a - c for c, a in pairs]
        print(f"{tree}: N={options.n}, {len(pairs)} rounds, medians: check "
              f"{statistics.median(checks):.3f} s, add {statistics.median(adds):.3f} s, "
              f"add - check {statistics.median(differences):+.3f} s "
              f"(from {min(differences):+.3f} to {max(differences):+.3f})")


if __name__ == "__main__":
    main()
