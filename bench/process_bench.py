"""What starting containers' processes adds to an apply: N containers on one bridge with
`command: sleep 3600`, against the same N containers without a command.

Run only inside the throwaway sandbox:

    tests/sandbox.sh .venv/bin/python bench/process_bench.py              # N=50, 5 rounds
    tests/sandbox.sh .venv/bin/python bench/process_bench.py --size 100 --rounds 3

Each round applies both topologies from nothing (in alternating order) and times what the
CLI's "Apply complete ... in X s" times: the agent running the steps, then the
re-observation that verifies them, in-process through the pipeline (no interpreter start
in the figure). Each is destroyed before the next; the processes are stopped by it.
Prints the medians and the extra time per round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from netplan import pipeline  # noqa: E402
from netplan.topology_file import TopologyFile  # noqa: E402


def topology(name: str, size: int, command: bool) -> dict[str, Any]:
    containers: dict[str, Any] = {}
    for index in range(size):
        spec: dict[str, Any] = {"networks": ["net"]}
        if command:
            spec["command"] = ["sleep", "3600"]
        containers[f"c{index}"] = spec
    return {"name": name, "networks": {"net": {"subnet": "10.200.0.0/16"}},
            "containers": containers}


def timed_apply(path: Path, destroy: bool = False) -> float:
    """Seconds for executing the plan's steps and verifying them, as apply reports them."""
    opened = TopologyFile(path)
    with pipeline.connect_hosts(opened.outline, "local") as hosts:
        observed = pipeline.observe(opened.outline, hosts)
        plans = pipeline.plan({} if destroy else opened.desired(observed), observed)
        started = time.perf_counter()
        pipeline.execute(opened.outline, plans, hosts)
        pipeline.verify(opened.outline, hosts, plans)
        elapsed = time.perf_counter() - started
        if hosts.failed:
            raise SystemExit(f"{path}: {[f.error.lines() for f in hosts.failed.values()]}")
    return elapsed


def main() -> None:
    if os.environ.get("NETPLAN_SANDBOX") != "1":
        raise SystemExit("run it inside tests/sandbox.sh")
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for label, command in (("with", True), ("without", False)):
            paths[label] = Path(folder) / f"{label}.yaml"
            spec = topology(f"bench-{label}", args.size, command)
            paths[label].write_text(yaml.safe_dump(spec, sort_keys=False))
        times: dict[str, list[float]] = {"with": [], "without": []}
        for round_ in range(args.rounds):
            order = ["with", "without"] if round_ % 2 == 0 else ["without", "with"]
            for label in order:
                times[label].append(timed_apply(paths[label]))
                timed_apply(paths[label], destroy=True)
    extra = [w - wo for w, wo in zip(times["with"], times["without"], strict=True)]
    print(f"N={args.size} containers, {args.rounds} rounds (apply = steps + verify)")
    for label in ("without", "with"):
        print(f"  {label:>7} command: median {statistics.median(times[label]):.3f} s  "
              f"({', '.join(f'{t:.3f}' for t in times[label])})")
    print(f"  extra for the processes: median {statistics.median(extra):.3f} s  "
          f"({', '.join(f'{t:.3f}' for t in extra)})")


if __name__ == "__main__":
    main()
