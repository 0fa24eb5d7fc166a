"""Adding one container at size N against the no-op check at N, for one or more netplan
source trees run alternately in the same rounds (an A/B of a change: the add's target is
a difference of two whole processes, smaller than this machine's noise, so it needs
many rounds and the trees interleaved), each by this interpreter or by its own.

Run inside the sandbox, as root:
    tests/sandbox.sh .venv/bin/python bench/add_vs_check.py --n 1000 --rounds 10 . /tmp/old
    tests/sandbox.sh .venv/bin/python bench/add_vs_check.py . . --python .venv/bin/python \
        --python /tmp/pyenv-venv/bin/python     # one tree, two interpreters

Each round, for each tree: `netplan check` at N, `netplan apply` of N+1 (timed), then the
extra container is removed again (untimed): one file, rewritten, as a user edits it (two
files of one topology would need `apply --replace`), and the kernel is given `--pause`
seconds to finish freeing the namespace (its cleanup runs in the background and otherwise
lands in the next timed process). Every tree's .py files are compiled first, and each
tree has a compile cache of its own (NETPLAN_CACHE_DIR): one file has one entry in a
cache, keyed by the code that wrote it, so a tree's check after another tree's apply would
never hit. Each tree checks once, untimed, before the rounds. Besides the
wall times it reports the CPU time (user + system) of each process, which the other work
of a shared machine disturbs less.

With `--floor`, each round also times the check with the file loaded beside its
observation, as the add loads it (pydantic, the model, the YAML, the validation and the
compiler's import, in `run_plan`'s observe_beside), and nothing more: the desired state
still comes from the compile cache and nothing is planned. That is the least an add adds
to the check while the model validates the file it changed; what the add costs beyond it
is the compile and the stages after the observation. """

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ipbatch import Topo


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float
    """User + system seconds of the process."""


@dataclass(frozen=True)
class Side:
    """One of the ways compared: a source tree, run by an interpreter, with a compile cache
    of its own."""

    tree: Path
    python: str
    cache: Path

    def __str__(self) -> str:
        return f"{self.tree}" if self.python == sys.executable else f"{self.tree} ({self.python})"


NETPLAN = ("-m", "netplan")
LOADING_BESIDE = ("-c", "import sys; from netplan.topology_file import TopologyFile; "
                  "TopologyFile.needs_model = lambda self, compiles: True; "
                  "sys.argv[0] = 'netplan'; from netplan.cli import main; main()")
"""netplan's CLI, its file loaded beside the observation even when the cache has the
desired state (--floor). `-c` runs it from the tree, as `-m` does."""


def timed(side: Side, *args: str, runner: tuple[str, str] = NETPLAN) -> Timing:
    started = time.perf_counter()
    child = subprocess.Popen([side.python, *runner, *args], cwd=side.tree,
                             stdout=subprocess.DEVNULL, env=_env(side.cache))
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, child.args)
    return Timing(wall, usage.ru_utime + usage.ru_stime)


def _env(cache: Path) -> dict[str, str]:
    env = dict(os.environ, NETPLAN_CACHE_DIR=str(cache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="netplan source trees")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--pause", type=float, default=1.0,
                        help="seconds left to the kernel after each untimed remove")
    parser.add_argument("--python", action="append", default=[],
                        help="the interpreter of the tree of the same rank, one per tree "
                             "(default: this one for every tree)")
    parser.add_argument("--floor", action="store_true",
                        help="also time the check with the file loaded beside it")
    options = parser.parse_args()
    if os.environ.get("NETPLAN_SANDBOX") != "1":
        sys.exit("run it inside tests/sandbox.sh: it creates namespaces")
    pythons = options.python or [sys.executable] * len(options.trees)
    if len(pythons) != len(options.trees):
        sys.exit(f"{len(pythons)} --python for {len(options.trees)} trees: give one per tree")
    with tempfile.TemporaryDirectory() as scratch:
        sides = [Side(tree.resolve(), os.path.abspath(python), Path(scratch, f"cache{i}"))
                 for i, (tree, python) in enumerate(zip(options.trees, pythons, strict=True))]
        for side in sides:
            subprocess.run([side.python, "-m", "compileall", "-q", "netplan", "providers"],
                           cwd=side.tree, check=True, stdout=subprocess.DEVNULL)
        topo = Topo(options.n, 1)
        file = Path(scratch, "topology.yaml")
        base, grown = topo.yaml(), topo.grown().yaml()
        file.write_text(base)
        timed(sides[0], "apply", str(file), "--yes")
        time.sleep(options.pause)
        for side in sides:
            timed(side, "check", str(file))
        results: dict[Side, list[tuple[Timing, Timing]]] = {side: [] for side in sides}
        floors: dict[Side, list[Timing]] = {side: [] for side in sides}
        for round_ in range(options.rounds):
            for side in sides:
                check = timed(side, "check", str(file))
                if options.floor:
                    floors[side].append(timed(side, "check", str(file), runner=LOADING_BESIDE))
                    print(f"round {round_} {side}: check, the file loaded beside "
                          f"{floors[side][-1].wall:.3f} s (CPU {floors[side][-1].cpu:.3f} s)")
                file.write_text(grown)
                add = timed(side, "apply", str(file), "--yes")
                file.write_text(base)
                timed(side, "apply", str(file), "--yes")
                time.sleep(options.pause)
                results[side].append((check, add))
                print(f"round {round_} {side}: check {check.wall:.3f} s, add {add.wall:.3f} s, "
                      f"add - check {add.wall - check.wall:+.3f} s (CPU {check.cpu:.3f}, "
                      f"{add.cpu:.3f}, {add.cpu - check.cpu:+.3f} s)", flush=True)
        timed(sides[0], "destroy", str(file), "--yes")
    for side, pairs in results.items():
        for what in ("wall", "cpu"):
            checks = [getattr(c, what) for c, _ in pairs]
            adds = [getattr(a, what) for _, a in pairs]
            differences = [a - c for c, a in zip(checks, adds, strict=True)]
            print(f"{side}: N={options.n}, {len(pairs)} rounds, {what} medians: check "
                  f"{statistics.median(checks):.3f} s, add {statistics.median(adds):.3f} s, "
                  f"add - check {statistics.median(differences):+.3f} s "
                  f"(from {min(differences):+.3f} to {max(differences):+.3f})")
            if floors[side]:
                loaded = [getattr(f, what) - c for f, c in zip(floors[side], checks, strict=True)]
                print(f"{side}: {what} medians: check with the file loaded beside "
                      f"{statistics.median(getattr(f, what) for f in floors[side]):.3f} s, "
                      f"- check {statistics.median(loaded):+.3f} s "
                      f"(from {min(loaded):+.3f} to {max(loaded):+.3f})")


if __name__ == "__main__":
    main()
