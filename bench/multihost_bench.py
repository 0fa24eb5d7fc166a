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

With `--floor` (or `--floor-only`, which skips the lab and netplan), first the same work
without netplan, done the fastest hand-written way, as the machine's floor for the spread
ratio: ip -batch shell scripts (bench/ipbatch.py, `apply_shell`) building `--per-host`
containers on one bridge, once alone and `--hosts` times at once (distinct namespaces,
bridges, veths, subnets, nftables tables; one `sh` process each, all started together,
timed until the last ends). They run in the sandbox's own network namespace: like the lab
hosts, they share one kernel (its rtnl lock) and the same CPUs. Rounds alternate the order;
each build is followed by an untimed cleanup and a wait until the kernel has freed
everything. The ratio is taken round by round.

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
import ipbatch
import procwait
import yaml
from apply_bench import leftovers, sandbox_state
from ipbatch import Topo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from netplan import pipeline  # noqa: E402
from netplan.topology_file import TopologyFile  # noqa: E402
from providers.lab import default_names, down, up  # noqa: E402
from providers.ssh import SSHConnection  # noqa: E402

RESULTS = REPO / "bench" / "results"
TARGET_RATIO = 1.5
STAGES = ("load", "connect", "observe", "plan", "apply", "verify")
TIMEOUT = 1800.0
SETTLE_TIMEOUT = 120.0


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
    floor: list[dict[str, Any]] = field(default_factory=list)
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


# --- the floor: the same work by ip -batch scripts, no netplan -------------------------------


def run_scripts(scripts: Sequence[Path]) -> float:
    """Seconds from starting every script at once (one `sh` process each) until the last
    has ended."""
    logs = [script.with_name("stderr").open("w") for script in scripts]
    try:
        start = time.perf_counter()
        processes = [
            subprocess.Popen(["sh", str(script)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=log)
            for script, log in zip(scripts, logs, strict=True)
        ]
        codes = [procwait.wait(process, TIMEOUT) for process in processes]
        took = time.perf_counter() - start
    finally:
        for log in logs:
            log.close()
    for script, code in zip(scripts, codes, strict=True):
        if code:
            tail = script.with_name("stderr").read_text().strip().splitlines()[-5:]
            raise Failure(f"{script} exited {code}: " + " | ".join(tail))
    return took


def clean(topos: Sequence[Topo], baseline: dict[str, Any]) -> None:
    """Delete the builds' namespaces, bridges and tables; wait until the kernel has freed
    the veths (the sandbox is as it was before)."""
    for topo in topos:
        ipbatch.cleanup(topo)
    start = time.perf_counter()
    while left := leftovers(baseline, sandbox_state()):
        if time.perf_counter() - start > SETTLE_TIMEOUT:
            raise Failure(f"sandbox not clean {SETTLE_TIMEOUT:.0f} s after the ip -batch "
                          f"floor's cleanup: {'; '.join(left)}")
        time.sleep(0.02)


def floor(sides: dict[str, list[Topo]], rounds: int, opts: ipbatch.Options, tmp: Path,
          run: Run) -> None:
    """Each side's ip -batch scripts run at once, alternating sides from round to round;
    an unmeasured first pass checks that the kernel holds exactly what each build makes."""
    scripts = {
        topo.instance: ipbatch.apply_shell(topo, opts, tmp / "floor" / topo.name)
        for topos in sides.values() for topo in topos
    }
    baseline = sandbox_state()
    for side, topos in sides.items():
        try:
            run_scripts([scripts[topo.instance] for topo in topos])
            found = [line for topo in topos for line in ipbatch.check(topo, opts)]
        finally:
            clean(topos, baseline)
        if found:
            raise Failure(f"ip -batch floor, {side}: {len(found)} differences, e.g. {found[:3]}")
    for round_ in range(rounds):
        taken: dict[str, float] = {}
        for side in list(sides) if round_ % 2 == 0 else list(sides)[::-1]:
            try:
                taken[side] = run_scripts([scripts[topo.instance] for topo in sides[side]])
            finally:
                clean(sides[side], baseline)
            print(f"  round {round_} ip -batch {side}: {taken[side]:.3f} s", file=sys.stderr)
        run.floor.append({"round": round_, **taken})


# --- the same, stage by stage, in-process ----------------------------------------------------


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def staged(path: Path, destroy: bool = False) -> tuple[dict[str, float], dict[str, int]]:
    """Apply (or destroy) through the pipeline's stages: seconds per stage, and each host's
    SSH round trips."""
    seconds: dict[str, float] = {}
    opened, seconds["load"] = timed(lambda: TopologyFile(path))
    outline = opened.outline
    hosts, seconds["connect"] = timed(lambda: pipeline.connect_hosts(outline, "lab"))
    with hosts:
        connections = dict(hosts)
        observed, seconds["observe"] = timed(lambda: pipeline.observe(outline, hosts))
        plans, seconds["plan"] = timed(
            lambda: pipeline.plan({} if destroy else opened.desired(observed), observed))
        _, seconds["apply"] = timed(lambda: pipeline.execute(outline, plans, hosts))
        _, seconds["verify"] = timed(lambda: pipeline.verify(outline, hosts, plans))
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


@dataclass(frozen=True)
class Sides:
    """Names of the two sides of a ratio (keys of the per-round rows) and its title."""

    many: str
    one: str
    title: str


def ratio_row(rows: Sequence[dict[str, Any]], sides: Sides) -> str:
    ratios = [row[sides.many] / row[sides.one] for row in rows]
    ratio = statistics.median(ratios)
    per_round = ", ".join(f"{q:.2f} ({row[sides.many]:.2f} / {row[sides.one]:.2f})"
                          for q, row in zip(ratios, rows, strict=True))
    return (f"| {sides.title} | {median_of(rows, sides.many):.3f} s | "
            f"{median_of(rows, sides.one):.3f} s | {ratio:.2f}x | "
            f"{'met' if ratio <= TARGET_RATIO else 'NOT met'} | {per_round} |")


def report(run: Run, spread_sides: Sides, floor_sides: Sides, load: Sequence[float]) -> list[str]:
    rounds = len(run.rounds or run.floor)
    lines = [
        f"load average at the start {load[0]:.2f}, at the end {load[1]:.2f}",
        "",
        f"| measurement | many | one | many ÷ one (median of {rounds}) | target <= "
        f"{TARGET_RATIO}x | per round: ratio (many s / one s) |",
        "|---|---|---|---|---|---|",
    ]
    if run.rounds:
        lines.append(ratio_row(run.rounds, spread_sides))
    if run.floor:
        lines.append(ratio_row(run.floor, floor_sides))
        kernel = median_of(run.floor, floor_sides.many)
        netplan = (f" (netplan's {spread_sides.one}: {median_of(run.rounds, spread_sides.one):.3f}"
                   " s)" if run.rounds and spread_sides.one == floor_sides.one else "")
        lines += ["", f"ip -batch does the work of {floor_sides.many} in {kernel:.3f} s: a tool "
                      f"meets <= {TARGET_RATIO}x only if its own {floor_sides.one} takes at least "
                      f"{kernel / TARGET_RATIO:.3f} s{netplan}."]
    if run.stages:
        lines += ["", "| side | " + " | ".join(STAGES) + " | total |",
                  "|---|" + "---|" * (len(STAGES) + 1)]
        for side in (spread_sides.many, spread_sides.one):
            rows = [row for row in run.stages if row["side"] == side]
            cells = [median_of(rows, stage) for stage in STAGES]
            lines.append(
                f"| {side} | " + " | ".join(f"{c:.3f}" for c in cells) + f" | {sum(cells):.3f} |"
            )
    if run.round_trips:
        lines += ["", "| containers per host | round trips per host: apply | destroy | apply s |",
                  "|---|---|---|---|"]
        for row in run.round_trips:
            apply, destroy = (", ".join(map(str, row[k])) for k in ("apply", "destroy"))
            lines.append(
                f"| {row['per_host']} | {apply} | {destroy} | {row['apply_seconds']:.2f} |"
            )
        constant = len({tuple(row["apply"]) for row in run.round_trips}) == 1
        lines += ["", f"round trips per host constant from {run.round_trips[0]['per_host']} to "
                      f"{run.round_trips[-1]['per_host']} containers: "
                      f"{'yes' if constant else 'NO'}"]
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
    parser.add_argument("--floor", action="store_true",
                        help="also time the same work done by ip -batch scripts, one host's "
                             "alone and HOSTS at once (the machine's floor for the ratio)")
    parser.add_argument("--floor-only", action="store_true",
                        help="only that: no lab, no netplan")
    parser.add_argument("--floor-enter", choices=("nsenter", "ip-n"), default="nsenter",
                        help="how the floor's scripts enter a namespace: `nsenter --net=… ip` "
                             "(the default, the faster) or `ip -n NS`")
    parser.add_argument("--json", type=Path, help="raw results file (default bench/results/…)")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.floor = args.floor or args.floor_only
    return args


def lab_parts(args: argparse.Namespace, hosts: list[str], sides: Sides, alone: int, tmp: Path,
              run: Run) -> None:
    """The lab's measurements: spread (`alone` containers on the one-host side), stages,
    round trips."""
    lab = tmp / "lab"
    os.environ["NETPLAN_LAB_DIR"] = str(lab)
    bytecode.compile_sources()  # the timed processes run from .pyc, as installed
    env = bytecode.environment()
    try:
        up(hosts, lab)
        files = {
            sides.many: overlay_topology(tmp / "many.yaml", dict.fromkeys(hosts, args.per_host)),
            sides.one: overlay_topology(tmp / "one.yaml", {hosts[0]: alone}),
        }
        spread(files, args.rounds, env, run)
        stages(files, args.rounds, run)
        round_trips(hosts, args.sizes, tmp, run)
    finally:
        down(lab)


def main(argv: Sequence[str] | None = None) -> int:
    require_sandbox()
    args = parse_args(argv)
    run = Run()
    load = os.getloadavg()
    if load[0] > 0.5:
        run.note(f"load average {load[0]:.2f} at the start: other work shares these CPUs")
    hosts = default_names(args.hosts)
    alone = args.hosts * args.per_host if args.baseline == "total" else args.per_host
    many, one = f"{args.hosts}x{args.per_host}", f"1x{alone}"
    spread_sides = Sides(many, one, f"netplan apply --provider lab, {many} ÷ {one}")
    floor_sides = Sides(f"{args.hosts}x{args.per_host} in parallel", f"1x{args.per_host}",
                        f"ip -batch, {args.hosts} x {args.per_host} in parallel ÷ "
                        f"1 x {args.per_host}")
    floor_opts = ipbatch.Options(enter=args.floor_enter)
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="netplan-mhbench-") as tmp:
        try:
            if args.floor:
                floor({floor_sides.many: [Topo(args.per_host, 1, k) for k in range(args.hosts)],
                       floor_sides.one: [Topo(args.per_host)]},
                      args.rounds, floor_opts, Path(tmp), run)
            if not args.floor_only:
                lab_parts(args, hosts, spread_sides, alone, Path(tmp), run)
        except Failure as failure:
            print(f"multihost_bench: {failure}", file=sys.stderr)
            return 1
    lines = report(run, spread_sides, floor_sides, (load[0], os.getloadavg()[0]))
    print("\n".join(lines))
    for note in run.notes:
        print(f"- {note}")
    path = args.json or RESULTS / f"multihost_bench-{started:%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "format_version": 2,
        "started": started.isoformat(),
        "command": [sys.executable, *sys.argv],
        "loadavg_at_start": load,
        "machine": machine(),
        "options": {"hosts": args.hosts, "per_host": args.per_host, "rounds": args.rounds,
                    "sizes": args.sizes, "baseline": args.baseline, "floor": args.floor,
                    "floor_only": args.floor_only, "floor_enter": args.floor_enter,
                    "floor_jobs": floor_opts.jobs},
        "spread": run.rounds,
        "floor": run.floor,
        "stages": run.stages,
        "round_trips": run.round_trips,
        "report": lines,
        "notes": run.notes,
    }, indent=2) + "\n")
    print(f"\nraw results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
