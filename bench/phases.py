"""Where the time of one netplan command goes, phase by phase, inside its process.

    tests/sandbox.sh .venv/bin/python bench/phases.py [--tree DIR] -- apply FILE --yes

Runs `netplan ARGS` in this process (from the source tree `--tree`, default this one)
with the pipeline's stages and the agent's hot spots wrapped in timers, and prints the
milliseconds spent in each to stderr (a phase called more than once is summed; nested
phases are indented under their stage). Whole-process figures are bench/apply_bench.py's
and bench/add_vs_check.py's: this one says which part of a command moved, which two whole
processes on this noisy machine cannot (run it alternately for two trees, in one shell
loop, and compare medians).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PHASES = (
    ("netplan.pipeline", "load", "load"),
    ("netplan.pipeline", "observe", "observe"),
    ("netplan.pipeline", "plan", "compile + plan"),
    ("netplan.pipeline", "execute", "execute"),
    ("netplan.agent.journal", "Journal.before", "  journal before each step"),
    ("netplan.agent.hostsfile", "update", "  hosts files rewritten"),
    ("netplan.pipeline", "verify", "verify"),
    ("netplan.agent.hostsfile", "observe", "  hosts files read (observe and verify)"),
    ("netplan.pipeline", "record_applied", "record"),
    ("netplan.pipeline", "last_applied", "last-applied read (check)"),
    ("netplan.gate.commands", "build_report", "report (check)"),
)
"""(module, attribute, label): what is timed, in the order printed."""


def wrap(module: str, attribute: str, label: str, spent: dict[str, float]) -> None:
    """Replace `module.attribute` (a function, or Class.method) by a timed call of it."""
    owner: Any = importlib.import_module(module)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    function: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

    setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("args", nargs=argparse.REMAINDER, help="netplan's arguments")
    options = parser.parse_args()
    sys.path.insert(0, str(options.tree.resolve()))
    args = [a for a in options.args if a != "--"]
    sys.argv = ["netplan", *args]
    started = time.perf_counter()
    from netplan import cli  # from --tree: imported after sys.path is set

    spent: dict[str, float] = {"imports": time.perf_counter() - started}
    # netplan.agent.execute.KINDS holds the executors themselves: the timed hosts-file
    # update goes into that table too.
    for module, attribute, label in PHASES:
        wrap(module, attribute, label, spent)
    execute = importlib.import_module("netplan.agent.execute")
    hostsfile = importlib.import_module("netplan.agent.hostsfile")
    resources = importlib.import_module("netplan.agent.resources")
    kind = execute.KINDS[resources.HostsFile]
    execute.KINDS[resources.HostsFile] = type(kind)(kind.create, hostsfile.update, kind.delete)
    started = time.perf_counter()
    with contextlib.suppress(SystemExit):
        cli.main()
    spent["run (after imports)"] = time.perf_counter() - started
    for label in ["imports", *(label for _, _, label in PHASES), "run (after imports)"]:
        if label in spent:
            print(f"{label:42} {spent[label] * 1000:7.1f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
