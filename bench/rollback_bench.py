"""What a rollback costs: N containers on one bridge, applied from nothing, with the last
container's veth made to fail (someone else's link already holds its host-side name), so
that the agent undoes nearly every step. Against the same apply going through.

Run only inside the throwaway sandbox:

    tests/sandbox.sh .venv/bin/python bench/rollback_bench.py                # N=100, 300
    tests/sandbox.sh .venv/bin/python bench/rollback_bench.py --sizes 500 --rounds 3

Times are the agent's own (the rollback's `seconds` in its answer) and the apply's
steps as the pipeline runs them, in-process (no interpreter start in the figures).
Prints the medians per N; every round checks that the host is back to nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from netplan import pipeline  # noqa: E402
from netplan.agent.resources import Veth  # noqa: E402
from netplan.rollback import ApplyFailed, Transaction  # noqa: E402
from netplan.topology_file import TopologyFile  # noqa: E402


def write(path: Path, size: int) -> Path:
    path.write_text(yaml.safe_dump({
        "name": "rollback-bench",
        "networks": {"net": {"driver": "bridge", "bridge": "br-rb", "subnet": "10.88.0.0/16"}},
        "containers": {f"c{i}": {"networks": ["net"]} for i in range(size)},
    }))  # fmt: skip
    return path


def one_round(path: Path, fail: bool) -> tuple[float, int, float]:
    """(seconds of the steps, steps undone, seconds of the rollback)."""
    opened = TopologyFile(path)
    with pipeline.connect_hosts(opened.outline, "local") as hosts:
        observed = pipeline.observe(opened.outline, hosts)
        plans = pipeline.plan(opened.desired(observed), observed)
        steps = plans["local"].steps
        veths = [s.resource for s in steps if isinstance(s.resource, Veth)]
        if fail:
            subprocess.run(["ip", "link", "add", veths[-1].peer, "type", "bridge"], check=True)
        started = time.perf_counter()
        try:
            pipeline.execute(opened.outline, plans, hosts, Transaction(rollback=True))
        finally:
            elapsed = time.perf_counter() - started
            if fail:
                subprocess.run(["ip", "link", "del", veths[-1].peer], check=True)
        failure = hosts.failed.get("local")
    if not fail:
        return elapsed, 0, 0.0
    assert failure is not None and isinstance(failure.error, ApplyFailed)
    line = next(x for x in failure.error.lines() if "rolled back" in x)
    assert line.endswith("the host is as it was before the apply"), line
    undone = int(line.split("rolled back ")[1].split()[0])
    seconds = float(line.split(" steps in ")[1].split()[0])
    return elapsed, undone, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| N | steps undone | apply (s) | failed apply incl. rollback (s) | rollback (s) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = write(Path(folder) / "t.yaml", size)
            ok, failed, rollback, undone = [], [], [], 0
            for _ in range(args.rounds):
                elapsed, undone, seconds = one_round(path, fail=True)
                failed.append(elapsed)
                rollback.append(seconds)
                ok.append(one_round(path, fail=False)[0])
                subprocess.run([sys.executable, "-m", "netplan", "destroy", str(path), "--yes"],
                               check=True, capture_output=True)  # fmt: skip
            print(f"| {size} | {undone} | {statistics.median(ok):.2f} | "
                  f"{statistics.median(failed):.2f} | {statistics.median(rollback):.2f} |")


if __name__ == "__main__":
    main()
