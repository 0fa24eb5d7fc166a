"""Benchmark: one overlay on many lab hosts against the same containers on one, and the SSH
round trips per host as the topology grows.

Run only inside the throwaway sandbox (`make bench`):

    tests/sandbox.sh .venv/bin/python bench/multihost_bench.py [--rounds 3]

It brings up its own lab (5 hosts by default) in a temporary directory and removes it at
the end. Two measurements:

- **spread**: `netplan apply FILE --provider lab --yes` as a user runs it (one process,
  timed from start to exit) of an overlay with `--per-host` containers on each of
  `--hosts` hosts, against the same number of containers on the same overlay on one lab
  host (or, with `--baseline per-host`, `--per-host` of them: issue 7's "5 hosts x 100
  against one host x 100", which on this machine's 2 cores puts 5x the work on the same
  CPUs). Rounds alternate which goes first; each apply is followed by an untimed destroy.
  The ratio is taken pair by pair within a round. Then the same applies in-process,
  stage by stage (load, connect, observe, plan, apply, verify), to show where time goes.
- **round trips**: `SSHConnection.round_trips` of every host for an apply and a destroy
  through the pipeline's stages, with 10, 50, 100, 200 containers per host (`--sizes`).

Prints Markdown tables and writes the raw figures as JSON to bench/results/ (or --json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import bytecode
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from netplan import pipeline  # noqa: E402
from providers.lab import default_names, down, up  # noqa: E402
from providers.ssh import SSHConnection  # noqa: E402

RESULTS = REPO / "bench" / "results"
TARGET_RATIO = 1.5
STAGES = ("load", "connect", "observe", "plan", "apply", "verify")
TIMEOUT = 1800.0


class Failure(Exception):
    """A measured command failed; the message says which and how."""


def require_sandbox() -> None:
    """Refuse to run on the machine's own network (design principle 7): the lab makes an
    underlay bridge, links and namespaces."""
    if os.environ.get("NETPLAN_SANDBOX") != "1":
        sys.exit("multihost_bench: refusing to run outside the sandbox (NETPLAN_SANDBOX is not 1)"
                 "\n  run: tests/sandbox.sh .venv/bin/python bench/multihost_bench.py")


def machine() -> dict[str, Any]:
    versions = {name: metadata.version(name) for name in ("pyroute2", "paramiko")}
    return {"kernel": platform.release(), "cpus": os.cpu_count(),
            "python": platform.python_version(), **versions,
            "loadavg_at_end": os.getloadavg()}


def overlay_topology(path: Path, per_host: dict[str, int]) -> Path:
    """One overlay (10.90.0.0/16) and `per_host[host]` containers on it on each host."""
    topology = {
        "name": "mhbench",
        "hosts": list(per_host),
        "networks": {"ov": {"driver": "overlay", "subnet": "10.90.0.0/16"}},
        "containers": {
            f"{host.lower()}-c{index}": {"host": host, "networks": ["ov"]}
            for host, count in per_host.items()
            for index in range(count)
        },
    }
    path.write_text(yaml.safe_dump(topology, sort_keys=False))
    return path


@dataclass
class Run:
    rounds: list[dict[str, Any]] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)
    round_trips: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        print(f"  note: {text}", file=sys.stderr)
        self.notes.append(text)


# --- netplan as a user runs it ---------------------------------------------------------------


def netplan(*args: str, env: dict[str, str]) -> float:
    """Seconds from start to exit of `python -m netplan ARGS --provider lab`."""
    argv = [sys.executable, "-m", "netplan", *args, "--provider", "lab"]
    start = time.perf_counter()
    result = subprocess.run(
        argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=TIMEOUT,
    )
    took = time.perf_counter() - start
    if result.returncode != 0:
        tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-6:]
        raise Failure(f"netplan {' '.join(args)} (exit {result.returncode}): " + " | ".join(tail))
    return took


def spread(files: dict[str, Path], rounds: int, env: dict[str, str], run: Run) -> None:
    """Alternating applies of each side as a process; a destroy after each, untimed."""
    sides = list(files)
    for side in sides:  # first contact uploads the agent; caches fill: not measured
        netplan("apply", str(files[side]), "--yes", env=env)
        netplan("destroy", str(files[side]), "--yes", env=env)
    for round_ in range(rounds):
        taken: dict[str, float] = {}
        for side in sides if round_ % 2 == 0 else sides[::-1]:
            taken[side] = netplan("apply", str(files[side]), "--yes", env=env)
            netplan("destroy", str(files[side]), "--yes", env=env)
            print(f"  round {round_} {side:6} apply {taken[side]:.3f} s", file=sys.stderr)
        run.rounds.append({"round": round_, **taken})


# --- the same, stage by stage, in-process ----------------------------------------------------


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def staged(path: Path, destroy: bool = False) -> tuple[dict[str, float], dict[str, int]]:
    """Apply (or destroy) through the pipeline's stages: seconds per stage, and each host's
    SSH round trips."""
    seconds: dict[str, float] = {}
    topology, seconds["load"] = timed(lambda: pipeline.load(path))
    hosts, seconds["connect"] = timed(lambda: pipeline.connect_hosts(topology, "lab"))
    with hosts:
        connections = dict(hosts)
        observed, seconds["observe"] = timed(lambda: pipeline.observe(topology, hosts))
        plans, seconds["plan"] = timed(lambda: pipeline.plan(topology, observed, destroy))
        _, seconds["apply"] = timed(lambda: pipeline.execute(topology, plans, hosts))
        _, seconds["verify"] = timed(lambda: pipeline.verify(topology, hosts, plans))
        if hosts.failed:
            errors = [line for f in hosts.failed.values() for line in f.error.lines()]
            raise Failure("; ".join(errors))
    trips = {n: c.round_trips for n, c in connections.items() if isinstance(c, SSHConnection)}
    return seconds, trips


def stages(files: dict[str, Path], rounds: int, run: Run) -> None:
    for round_ in range(rounds):
        for side, path in files.items():
            seconds, _ = staged(path)
            staged(path, destroy=True)
            run.stages.append({"round": round_, "side": side, **seconds})


def round_trips(hosts: Sequence[str], sizes: Sequence[int], tmp: Path, run: Run) -> None:
    for per_host in sizes:
        path = overlay_topology(tmp / f"rt-{per_host}.yaml", {host: per_host for host in hosts})
        applied, apply_trips = staged(path)
        _, destroy_trips = staged(path, destroy=True)
        row = {
            "per_host": per_host,
            "apply": sorted(set(apply_trips.values())),
            "destroy": sorted(set(destroy_trips.values())),
            "apply_seconds": sum(applied.values()),
        }
        run.round_trips.append(row)
        print(f"  round trips, {per_host} per host: {row}", file=sys.stderr)


# --- the report ------------------------------------------------------------------------------


def median_of(rows: Sequence[dict[str, Any]], key: str) -> float:
    return float(statistics.median(row[key] for row in rows))


def report(run: Run, many: str, one: str) -> list[str]:
    ratios = [r[many] / r[one] for r in run.rounds]
    lines = [
        f"| side | apply (median of {len(run.rounds)}) | per round |",
        "|---|---|---|",
    ]
    for side in (many, one):
        per_round = ", ".join(f"{r[side]:.2f}" for r in run.rounds)
        lines.append(f"| {side} | {median_of(run.rounds, side):.3f} s | {per_round} |")
    ratio = statistics.median(ratios)
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    lines += [
        "",
        f"ratio {many} / {one}: {ratio:.2f}x (per round "
        f"{', '.join(f'{r:.2f}' for r in ratios)}; target <= {TARGET_RATIO}x: {verdict})",
        "",
        "| side | " + " | ".join(STAGES) + " | total |",
        "|---|" + "---|" * (len(STAGES) + 1),
    ]
    for side in (many, one):
        rows = [row for row in run.stages if row["side"] == side]
        cells = [median_of(rows, stage) for stage in STAGES]
        lines.append(
            f"| {side} | " + " | ".join(f"{c:.3f}" for c in cells) + f" | {sum(cells):.3f} |"
        )
    lines += ["", "| containers per host | round trips per host: apply | destroy | apply s |",
              "|---|---|---|---|"]
    for row in run.round_trips:
        apply, destroy = (", ".join(map(str, row[k])) for k in ("apply", "destroy"))
        lines.append(f"| {row['per_host']} | {apply} | {destroy} | {row['apply_seconds']:.2f} |")
    constant = len({tuple(row["apply"]) for row in run.round_trips}) == 1
    lines.append("")
    lines.append(f"round trips per host constant from {run.round_trips[0]['per_host']} to "
                 f"{run.round_trips[-1]['per_host']} containers: {'yes' if constant else 'NO'}")
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=5, help="lab hosts (default 5)")
    parser.add_argument("--per-host", type=int, default=10, help="containers per host (10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--baseline", choices=("total", "per-host"), default="total",
                        help="the one-host side: all HOSTS x PER_HOST containers (total, the "
                             "default) or PER_HOST of them (per-host: issue 7's wording)")
    parser.add_argument("--sizes", default="10,50,100,200",
                        help="containers per host for the round trips (default 10,50,100,200)")
    parser.add_argument("--json", type=Path, help="raw results file (default bench/results/…)")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    require_sandbox()
    args = parse_args(argv)
    run = Run()
    load = os.getloadavg()[0]
    if load > 0.5:
        run.note(f"load average {load:.2f} at the start: other work shares these CPUs")
    hosts = default_names(args.hosts)
    alone = args.hosts * args.per_host if args.baseline == "total" else args.per_host
    many, one = f"{args.hosts}x{args.per_host}", f"1x{alone}"
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="netplan-mhbench-") as tmp:
        lab = Path(tmp) / "lab"
        os.environ["NETPLAN_LAB_DIR"] = str(lab)
        bytecode.compile_sources()  # the timed processes run from .pyc, as installed
        env = bytecode.environment()
        try:
            up(hosts, lab)
            files = {
                many: overlay_topology(Path(tmp) / "many.yaml",
                                       dict.fromkeys(hosts, args.per_host)),
                one: overlay_topology(Path(tmp) / "one.yaml", {hosts[0]: alone}),
            }
            spread(files, args.rounds, env, run)
            stages(files, args.rounds, run)
            round_trips(hosts, args.sizes, Path(tmp), run)
        except Failure as failure:
            print(f"multihost_bench: {failure}", file=sys.stderr)
            return 1
        finally:
            down(lab)
    lines = report(run, many, one)
    print("\n".join(lines))
    for note in run.notes:
        print(f"- {note}")
    path = args.json or RESULTS / f"multihost_bench-{started:%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "format_version": 1,
        "started": started.isoformat(),
        "command": [sys.executable, *sys.argv],
        "machine": machine(),
        "options": {"hosts": args.hosts, "per_host": args.per_host, "rounds": args.rounds,
                    "sizes": args.sizes, "baseline": args.baseline},
        "spread": run.rounds,
        "stages": run.stages,
        "round_trips": run.round_trips,
        "report": lines,
        "notes": run.notes,
    }, indent=2) + "\n")
    print(f"\nraw results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
