"""Where the time of one netplan command goes, phase by phase, inside its process.

    tests/sandbox.sh .venv/bin/python bench/phases.py [--tree DIR] -- apply FILE --yes

Runs `netplan ARGS` in this process (from the source tree `--tree`, default this one)
with the pipeline's stages and the agent's hot spots wrapped in timers, and prints the
milliseconds spent in each to stderr (a phase called more than once is summed; nested
phases are indented under their stage). `--detail` adds the parts of an observation,
the executor's steps by operation and kind (`create veth`, `delete netns`, ...), and the
parts of a namespace's removal. Whole-process figures are bench/apply_bench.py's
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
    ("netplan.topology_file", "TopologyFile.__init__", "open the file (load, or cached)"),
    ("netplan.pipeline", "observe", "observe"),
    ("netplan.pipeline", "observe_beside", "observe, the file loading meanwhile"),
    ("netplan.topology_file", "TopologyFile.load", "  load the file (beside the observation)"),
    ("netplan.topology_file", "TopologyFile.desired", "desired state (compile, or cached)"),
    ("netplan.pipeline", "plan", "plan"),
    ("netplan.pipeline", "execute", "execute"),
    ("netplan.agent.journal", "Journal.before", "  journal before each step"),
    ("netplan.agent.hostsfile", "update", "  hosts files rewritten"),
    ("netplan.pipeline", "verify", "verify"),
    ("netplan.agent.hostsfile", "read", "  hosts files read (observe and verify)"),
    ("netplan.pipeline", "record_applied", "record"),
    ("netplan.pipeline", "last_applied", "last-applied read (check)"),
    ("netplan.gate.commands", "build_report", "report (check)"),
)
"""(module, attribute, label): what is timed, in the order printed."""

DETAIL = (
    ("netplan.agent.split", "in_parts", "  observe or make namespaces in parts"),
    ("netplan.agent.observe", "_observe_namespaces", "    the parent's own part"),
    ("netplan.agent.links", "dump", "      link dumps (settle's included)"),
    ("netplan.agent.observe", "_observe_root_namespace", "  root namespace's objects"),
    ("netplan.agent.state", "HostState.to_json", "  observation to JSON (agent)"),
    ("netplan.agent.state", "HostState.from_json", "  observation from JSON (controller)"),
    ("netplan.compile_cache", "code_fingerprint", "  code fingerprint (cache)"),
    ("netplan.compile_cache", "Cache.lookup", "  entry read (cache)"),
    ("netplan.topology_file", "observation_digest", "  observation digest (cache)"),
    ("netplan.compile_cache", "comparable", "  desired state made comparable (cache)"),
    ("netplan.compile_cache", "Cache.store", "  entry written (cache)"),
    ("netplan.compile", "compile_topology", "  compile"),
    ("netplan.compile", "compile_hosts_files", "    hosts files rendered"),
    ("netplan.pipeline", "plan_host", "  plan (and verify's diff)"),
    ("netplan.agent.netns", "settle", "  wait for deleted namespaces to be freed"),
    ("netplan.agent.nsutil", "remove_named", "  namespaces unmounted and unlinked"),
    ("netplan.agent.veth", "host_ends_seen_from_root", "  host ends of deleted namespaces"),
    ("netplan.agent.hostsfile", "remove", "  hosts files removed"),
    ("netplan.gate.record", "LastApplied.from_json", "  last-applied record decoded"),
)
"""With --detail: timed as well, printed after PHASES, then the executor's steps. A
function imported by name at the top of a module is wrapped where it is called from (as
netplan.pipeline's plan_host); one imported inside a function, in its own module (as
netplan.compile's compile_topology)."""


def timer(function: Callable[..., Any], label: str,
          spent: dict[str, float]) -> Callable[..., Any]:
    """`function`, adding the time of each call to spent[label]."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

    return timed


def wrap(module: str, attribute: str, label: str, spent: dict[str, float]) -> None:
    """Replace `module.attribute` (a function, or Class.method) by a timed call of it."""
    owner: Any = importlib.import_module(module)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    setattr(owner, name, timer(getattr(owner, name), label, spent))


def time_steps(execute: Any, spent: dict[str, float]) -> list[str]:
    """Time the executor's table of operations (it holds the functions themselves) by
    operation and kind; the labels, for printing."""
    labels = []
    for resource, kind in execute.KINDS.items():
        create, update, delete = (
            f"  step: {op} {resource.KIND}" for op in ("create", "update", "delete")
        )
        labels += [create, update, delete]
        execute.KINDS[resource] = type(kind)(
            timer(kind.create, create, spent),
            None if kind.update is None else timer(kind.update, update, spent),
            timer(kind.delete, delete, spent),
        )
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--detail", action="store_true",
                        help="also the parts of observe, the steps by kind, namespace removal")
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
    timed = PHASES + DETAIL if options.detail else PHASES
    for module, attribute, label in timed:
        wrap(module, attribute, label, spent)
    execute = importlib.import_module("netplan.agent.execute")
    hostsfile = importlib.import_module("netplan.agent.hostsfile")
    resources = importlib.import_module("netplan.agent.resources")
    kind = execute.KINDS[resources.HostsFile]
    execute.KINDS[resources.HostsFile] = type(kind)(kind.create, hostsfile.update, kind.delete)
    steps = time_steps(execute, spent) if options.detail else []
    started = time.perf_counter()
    with contextlib.suppress(SystemExit):
        cli.main()
    spent["run (after imports)"] = time.perf_counter() - started
    by_time = sorted(steps, key=lambda label: -spent.get(label, 0.0))
    for label in ["imports", *(label for _, _, label in timed), *by_time, "run (after imports)"]:
        if label in spent:
            print(f"{label:42} {spent[label] * 1000:7.1f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
