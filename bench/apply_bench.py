"""Benchmark: netplan apply / check / destroy of N containers on one bridge, against `ip -batch`.

Run only inside the throwaway sandbox (`make bench`):

    tests/sandbox.sh .venv/bin/python bench/apply_bench.py [--sizes 100,500] [--rounds 3]

For every N, each round times netplan as a user runs it (one process per command:
`python -m netplan apply FILE --yes`, `check FILE`, `destroy FILE --yes`) and the
`ip -batch` reference (bench/ipbatch.py) doing the same kernel work, alternating which
goes first. Between measurements the sandbox must be back to its starting state. Prints
a Markdown table of medians and of netplan/ip ratios taken pair by pair within a round,
and writes every raw figure as JSON to bench/results/ (or --json PATH).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ipbatch
from bench_report import OPS, Measurement, Run, machine, markdown, summarize, targets
from ipbatch import Container

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SIDES = ("netplan", "ip-batch")
SETTLE_TIMEOUT = 60.0


class Failure(Exception):
    """A measured command failed; the message says which and how."""


# --- the sandbox ---------------------------------------------------------------------------


def require_sandbox() -> None:
    """Refuse to run on the machine's own network (design principle 7)."""
    if os.environ.get("NETPLAN_SANDBOX") != "1":
        print(
            "apply_bench: refusing to run outside the sandbox (NETPLAN_SANDBOX is not 1).\n"
            "  run: make bench   or   tests/sandbox.sh .venv/bin/python bench/apply_bench.py",
            file=sys.stderr,
        )
        sys.exit(1)
    try:
        ours, init = os.stat("/proc/self/ns/net").st_ino, os.stat("/proc/1/ns/net").st_ino
    except OSError:
        return
    if ours == init:
        print("apply_bench: refusing to run: this is PID 1's network namespace", file=sys.stderr)
        sys.exit(1)


def sandbox_state() -> dict[str, Any]:
    """What the sandbox's root namespace has: namespaces, links, addresses, routes."""
    links = json.loads(ipbatch.run(["ip", "-j", "address", "show"]) or "[]")
    routes = json.loads(ipbatch.run(["ip", "-j", "route", "show", "table", "all"]) or "[]")
    netns = sorted(os.listdir(ipbatch.RUN_NETNS)) if os.path.isdir(ipbatch.RUN_NETNS) else []
    return {
        "netns": netns,
        "links": sorted(link["ifname"] for link in links),
        "addresses": sorted(
            f"{link['ifname']} {a['local']}/{a['prefixlen']}"
            for link in links
            for a in link.get("addr_info", [])
        ),
        "routes": sorted(
            f"{r.get('table', 'main')} {r.get('type', '')} {r['dst']} {r.get('dev', '')}"
            for r in routes
        ),
    }


def leftovers(baseline: dict[str, Any], now: dict[str, Any]) -> list[str]:
    return [
        f"{kind}: +{sorted(set(now[kind]) - set(baseline[kind]))[:5]} "
        f"-{sorted(set(baseline[kind]) - set(now[kind]))[:5]}"
        for kind in baseline
        if now[kind] != baseline[kind]
    ]


def settle(baseline: dict[str, Any], cs: Sequence[Container], run: Run, after: str) -> float:
    """Wait until the sandbox is back to `baseline` (namespaces are torn down by the kernel
    asynchronously); the seconds it took. If something is left, clean up and record that."""
    start = time.perf_counter()
    while True:
        left = leftovers(baseline, sandbox_state())
        if not left:
            return time.perf_counter() - start
        if time.perf_counter() - start > SETTLE_TIMEOUT:
            break
        time.sleep(0.02)
    run.note(f"after {after}, still present after {SETTLE_TIMEOUT:.0f} s: {'; '.join(left)}")
    ipbatch.cleanup(cs)
    time.sleep(1)
    left = leftovers(baseline, sandbox_state())
    if left:
        raise SystemExit(f"apply_bench: cannot get the sandbox clean: {'; '.join(left)}")
    return SETTLE_TIMEOUT


# --- the two sides -------------------------------------------------------------------------


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def netplan_command(*args: str, profile: Path | None = None) -> list[str]:
    head = [sys.executable]
    if profile is not None:
        head += ["-m", "cProfile", "-o", str(profile)]
    return [*head, "-m", "netplan", *args]


class Env:
    """Environment of the netplan processes (set once by main)."""

    netplan: dict[str, str] | None = None


def bytecode_cache() -> dict[str, str]:
    """Let netplan's processes cache bytecode, as an installed package has it, even where
    PYTHONDONTWRITEBYTECODE is set: in bench/results/pycache, not in the source tree."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(RESULTS / "pycache")
    return env


def warm_up(topology: Path) -> None:
    """An untimed, read-only `netplan check` (pending changes, exit 2): fills the
    bytecode cache and the page cache before the first timed netplan command."""
    subprocess.run(
        netplan_command("check", str(topology)), cwd=REPO, env=Env.netplan,
        stdin=subprocess.DEVNULL, capture_output=True, timeout=ipbatch.TIMEOUT,
    )


def netplan(op: str, topology: Path, profile: Path | None = None) -> Callable[[], None]:
    args = {"apply": ["--yes"], "check": [], "destroy": ["--yes"]}[op]

    def action() -> None:
        argv = netplan_command(op, str(topology), *args, profile=profile)
        result = subprocess.run(
            argv,
            cwd=REPO,
            env=Env.netplan,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=ipbatch.TIMEOUT,
        )
        if result.returncode != 0:
            what = "reported drift right after apply" if op == "check" else "failed"
            tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-8:]
            raise Failure(
                f"netplan {op} {what} (exit {result.returncode}): " + " | ".join(tail)
            )

    return action


def reference(op: str, cs: Sequence[Container], opts: ipbatch.Options) -> Callable[[], None]:
    def check() -> None:
        found = ipbatch.check(cs, opts)
        if found:
            raise Failure(f"ip-batch check found {len(found)} differences: {found[:5]}")

    actions: dict[str, Callable[[], None]] = {
        "apply": lambda: ipbatch.apply(cs, opts),
        "check": check,
        "destroy": lambda: ipbatch.destroy(cs),
    }
    return actions[op]


def compare_kernel_state(
    cs: Sequence[Container], side: str, opts: ipbatch.Options, run: Run
) -> None:
    """Untimed, after the first apply: does the kernel hold the same objects either way?"""
    dumps = ipbatch.dump(cs, opts)
    found = ipbatch.differences(cs, dumps)
    if found:
        run.note(f"{side} apply, N={len(cs)}: {len(found)} differences from the reference "
                 f"objects, e.g. {found[:3]}")
    v6 = {
        "bridge": ipbatch.ipv6_link_local(dumps, "", ipbatch.BRIDGE),
        "veth": ipbatch.ipv6_link_local(dumps, "", cs[0].veth),
        "eth0": ipbatch.ipv6_link_local(dumps, cs[0].name, "eth0"),
    }
    state = ", ".join(f"{k} {'on' if on else 'off'}" for k, on in v6.items())
    run.note(f"{side}: IPv6 link-local autoconfiguration: {state}")


def measure_side(
    side: str,
    n: int,
    round_: int,
    cs: Sequence[Container],
    topology: Path,
    opts: ipbatch.Options,
    baseline: dict[str, Any],
    run: Run,
) -> bool:
    """apply, check, destroy of one side; False if one of them failed (then cleaned up)."""
    took: dict[str, float] = {}
    for op in OPS:
        action = netplan(op, topology) if side == "netplan" else reference(op, cs, opts)
        try:
            took[op] = seconds = timed(action)
        except (Failure, ipbatch.CommandError, subprocess.TimeoutExpired) as exc:
            run.measurements.append(Measurement(n, round_, side, op, None, str(exc)))
            run.note(f"N={n} round {round_}: {side} {op} FAILED: {exc}")
            ipbatch.cleanup(cs)
            settle(baseline, cs, run, f"{side} failure")
            return False
        run.measurements.append(Measurement(n, round_, side, op, seconds))
        print(f"  N={n} round {round_} {side:8} {op:7} {seconds:8.3f} s", file=sys.stderr)
        if op == "apply" and round_ == 0:
            compare_kernel_state(cs, side, opts, run)
    # Namespaces are freed by the kernel after `netns del` returns: also record the time
    # until the sandbox is back to how it started ("gone").
    left = settle(baseline, cs, run, f"{side} destroy")
    run.measurements.append(Measurement(n, round_, side, "gone", took["destroy"] + left))
    return True


def profile_netplan(cs: Sequence[Container], topology: Path, out: Path, run: Run) -> None:
    """One extra, untimed netplan apply/check/destroy under cProfile; prints hot spots."""
    out.mkdir(parents=True, exist_ok=True)
    for op in OPS:
        path = out / f"netplan-{op}-N{len(cs)}.prof"
        try:
            netplan(op, topology, profile=path)()
        except Failure as exc:
            run.note(f"profile of {op} at N={len(cs)}: {exc}")
            ipbatch.cleanup(cs)
            return
        text = io.StringIO()
        pstats.Stats(str(path), stream=text).sort_stats("tottime").print_stats(12)
        print(f"\n### cProfile, netplan {op}, N={len(cs)} ({path})\n{text.getvalue()}")


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,500", help="comma-separated N (default 100,500)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per N (default 3)")
    parser.add_argument("--sides", default=",".join(SIDES), help="netplan,ip-batch (default both)")
    parser.add_argument(
        "--ip-jobs", type=int, default=2, help="`ip -n NS` processes run at once (default 2)"
    )
    parser.add_argument(
        "--ip-ipv6", choices=("off", "kernel"), default="off",
        help="IPv6 link-local addresses on the ip -batch side: off (as netplan) or kernel default",
    )
    parser.add_argument(
        "--ip-enter", choices=("ip-n", "nsenter"), default="ip-n",
        help="how the ip -batch side enters a namespace: `ip -n NS` or `nsenter --net=… ip`",
    )
    parser.add_argument(
        "--no-bytecode-cache", action="store_true",
        help="run netplan with the environment as it is (PYTHONDONTWRITEBYTECODE honoured)",
    )
    parser.add_argument("--json", type=Path, help="raw results file (default bench/results/…)")
    parser.add_argument("--profile", type=Path, help="also profile one netplan run per N here")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.sides = [s for s in args.sides.split(",") if s.strip()]
    if unknown := set(args.sides) - set(SIDES):
        parser.error(f"unknown side(s) {sorted(unknown)}; choose from {', '.join(SIDES)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    require_sandbox()
    args = parse_args(argv)
    baseline = sandbox_state()
    if set(baseline["netns"]) & {"c0"} or ipbatch.BRIDGE in baseline["links"]:
        print("apply_bench: the sandbox already holds benchmark objects; start a fresh one",
              file=sys.stderr)
        return 1
    run = Run()
    load = os.getloadavg()[0]
    if load > 0.5:
        run.note(f"load average {load:.2f} at the start: other work shares these CPUs")
    opts = ipbatch.Options(args.ip_jobs, args.ip_ipv6 == "off", args.ip_enter)
    Env.netplan = None if args.no_bytecode_cache else bytecode_cache()
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="netplan-bench-") as tmp:
        for n in args.sizes:
            cs = ipbatch.containers(n)
            topology = Path(tmp) / f"bench-{n}.yaml"
            topology.write_text(ipbatch.topology_yaml(n))
            if "netplan" in args.sides:
                warm_up(topology)
            sides = list(args.sides)
            try:
                for round_ in range(args.rounds):
                    for side in sides[:] if round_ % 2 == 0 else sides[::-1]:
                        ok = measure_side(side, n, round_, cs, topology, opts, baseline, run)
                        if not ok and side == "netplan":
                            run.note(f"netplan skipped for the other rounds at N={n}")
                            sides.remove(side)
                if args.profile and "netplan" in sides:
                    profile_netplan(cs, topology, args.profile, run)
            finally:
                ipbatch.cleanup(cs)
                settle(baseline, cs, run, f"N={n}")
    rows = summarize(run, args.sizes)
    print(markdown(rows))
    print()
    for line in [*targets(rows), *run.notes]:
        print(f"- {line}")
    path = args.json or RESULTS / f"apply_bench-{started:%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "format_version": 1,
        "started": started.isoformat(),
        "command": [sys.executable, *sys.argv],
        "machine": machine(),
        "options": {
            "sizes": args.sizes, "rounds": args.rounds, "sides": args.sides,
            "ip_jobs": args.ip_jobs, "ip_ipv6": args.ip_ipv6, "ip_enter": args.ip_enter,
            "netplan_bytecode_cache": not args.no_bytecode_cache,
        },
        "summary": rows,
        "targets": targets(rows),
        "notes": run.notes,
        "measurements": [asdict(m) for m in run.measurements],
    }, indent=2) + "\n")
    print(f"\nraw results: {path}", file=sys.stderr)
    failed = any(m.error for m in run.measurements)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
