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

With `--floor load`, each round also times the check with the file loaded beside its
observation, as the add loads it (pydantic, the model, the YAML, the validation and the
compiler's import, in `run_plan`'s observe_beside), and nothing more: the desired state
still comes from the compile cache and nothing is planned. That is the least an add adds
to the check while the model validates the file it changed; what the add costs beyond it
is the compile and the stages after the observation. `--floor imports` times the check
with only pydantic and the model's classes imported beside it: the part of that load no
file, however small its change, can avoid while pydantic validates it. Both may be given. """

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
FLOORS = {
    "load": "the file loaded beside",
    "imports": "pydantic and the model imported beside",
}
"""What a check may do beside its observation (--floor), as the add does: load the file,
or only import what validates it (`--floor imports`: pydantic and the model's classes)."""


def beside_the_check(floor: str) -> tuple[str, str]:
    """netplan's CLI, doing `floor` beside the observation even when the cache has the
    desired state. `-c` runs it from the tree, as `-m` does."""
    load = ("TopologyFile.load = lambda self, compiles=False: "
            "__import__('netplan.topology.model'); ") if floor == "imports" else ""
    return ("-c", "import sys; from netplan.topology_file import TopologyFile; "
                  f"TopologyFile.needs_model = lambda self, compiles: True; {load}"
                  "sys.argv[0] = 'netplan'; from netplan.cli import main; main()")


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
    parser.add_argument("--floor", action="append", default=[], choices=FLOORS,
                        help="also time the check with the file loaded beside it (load), "
                             "or with pydantic and the model imported (imports); repeatable")
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
        floors: dict[tuple[Side, str], list[Timing]] = {
            (side, floor): [] for side in sides for floor in options.floor
        }
        for round_ in range(options.rounds):
            for side in sides:
                check = timed(side, "check", str(file))
                for floor in options.floor:
                    took = timed(side, "check", str(file), runner=beside_the_check(floor))
                    floors[side, floor].append(took)
                    print(f"round {round_} {side}: check, {FLOORS[floor]} {took.wall:.3f} s "
                          f"(CPU {took.cpu:.3f} s)")
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
            for floor in options.floor:
                times = [getattr(f, what) for f in floors[side, floor]]
                more = [t - c for t, c in zip(times, checks, strict=True)]
                print(f"{side}: {what} medians: check, {FLOORS[floor]} "
                      f"{statistics.median(times):.3f} s, - check {statistics.median(more):+.3f} s "
                      f"(from {min(more):+.3f} to {max(more):+.3f})")


if __name__ == "__main__":
    main()
