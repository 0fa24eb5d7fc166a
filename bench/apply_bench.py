"""The benchmark suite: netplan against ip per command, ip -batch and Mininet.

Run only inside the throwaway sandbox (`make bench`):

    tests/sandbox.sh .venv/bin/python bench/apply_bench.py                 # the full run
    tests/sandbox.sh .venv/bin/python bench/apply_bench.py --quick         # smoke test
    tests/sandbox.sh .venv/bin/python bench/apply_bench.py --sizes 10,100,500 --rounds 3

For every layout (one bridge; ten bridges of N/10) and every N, each round builds the same
N containers four ways, one after the other, and times each operation as a user runs it:

- netplan: one process per command, on one topology file edited in place between them as
  a user edits theirs (`python -m netplan apply FILE --yes`, `check FILE`, then FILE
  rewritten with one more container and `apply FILE --yes` for the incremental add,
  `destroy FILE --yes`); the file is written before the clock starts;
- ip per command: a generated shell script, one `ip` command per step (bench/ipscript.py);
- ip -batch: a root batch plus one `ip -n NS -batch` per namespace (bench/ipbatch.py);
- Mininet: `LinuxBridge` switches, no controller (bench/mininet_way.py).

Operations: apply from empty, no-op check, the same check again (netplan's goes through its
compile cache), add one container at size N, destroy. The order
of the ways alternates from round to round. In every round, right after netplan's check,
netplan's floor is timed as processes too (FLOORS: the interpreter's start, the imports
every netplan command pays before it touches the kernel, and the kernel's dumps of a check
read over raw netlink, bench/raw_observe.py). netplan's sources are compiled before anything
is timed (bench/bytecode.py). Between measurements the sandbox must be back to its starting
state. After a size's timed rounds, untimed, netplan's and ip -batch's add of one container
run once more under `ip monitor all-nsid` (bench/add_monitor.py), which counts the kernel's
change notifications and names the objects they concern, and under strace, which counts the
netlink messages the add's processes send (bench/add_writes.py). Prints one Markdown table per
layout (medians, and netplan ÷ each way taken round by round), the issue's targets, writes
the raw figures as JSON and the tables as Markdown to bench/results/, and log-log plots
(bench/bench_plot.py).
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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import add_monitor
import add_writes
import bench_plot
import bytecode
import ipbatch
import ipscript
import mininet_way
import procwait
from bench_report import (
    FLOOR,
    FLOORS,
    OPS,
    WAYS,
    Measurement,
    Run,
    floor_markdown,
    machine,
    markdown,
    summarize,
    summarize_floors,
    targets,
)
from ipbatch import LAYOUTS, Topo
from raw_observe import DEPENDENCIES, IMPORTS

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
PLOTS = REPO / "docs" / "bench"
MONITORED_WAYS = ("netplan", "ip-batch")
"""Ways whose incremental add is also watched with `ip monitor` (ip -batch for reference)."""
FULL_SIZES = (10, 50, 100, 250, 500, 1000)
SETTLE_TIMEOUT = 120.0
FILE_KINDS = frozenset({"hosts-file"})
"""Plan steps that write files (/etc/netns/NS/hosts), not netlink messages."""


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
    outside = os.environ.get("NETPLAN_OUTSIDE_NETNS", "")
    if str(os.stat("/proc/self/ns/net").st_ino) == outside:
        print("apply_bench: refusing to run: this is the network namespace the sandbox was "
              "started from", file=sys.stderr)  # fmt: skip
        sys.exit(1)


def sandbox_state() -> dict[str, Any]:
    """What the sandbox has: namespaces, links, addresses, routes, nftables tables."""
    links = json.loads(ipbatch.run(["ip", "-j", "address", "show"]) or "[]")
    routes = json.loads(ipbatch.run(["ip", "-j", "route", "show", "table", "all"]) or "[]")
    tables = json.loads(ipbatch.run(["nft", "-j", "list", "tables"]) or '{"nftables": []}')
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
        "nft": sorted(
            f"{t['table']['family']} {t['table']['name']}"
            for t in tables["nftables"] if "table" in t
        ),
    }


def leftovers(baseline: dict[str, Any], now: dict[str, Any]) -> list[str]:
    return [
        f"{kind}: +{sorted(set(now[kind]) - set(baseline[kind]))[:5]} "
        f"-{sorted(set(baseline[kind]) - set(now[kind]))[:5]}"
        for kind in baseline
        if now[kind] != baseline[kind]
    ]


def cleanup(topo: Topo) -> None:
    ipbatch.cleanup(topo)
    mininet_way.cleanup()


def settle(baseline: dict[str, Any], topo: Topo, run: Run, after: str) -> float:
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
    cleanup(topo)
    time.sleep(1)
    left = leftovers(baseline, sandbox_state())
    if left:
        raise SystemExit(f"apply_bench: cannot get the sandbox clean: {'; '.join(left)}")
    return SETTLE_TIMEOUT


# --- netplan, as a user runs it ------------------------------------------------------------


class Env:
    """Environment of the netplan processes and of the floor's (set once by main:
    bytecode.environment(), or this process's own with --no-compile)."""

    netplan: dict[str, str] | None = None


def netplan_argv(*args: str, profile: Path | None = None) -> list[str]:
    head = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
    return [*head, "-m", "netplan", *args]


TIME = "/usr/bin/time"
"""GNU time (Debian package `time`) measures netplan's peak RSS. Not os.wait4 from here:
Python starts a child with vfork, and Linux counts the parent's peak RSS (this benchmark's,
which holds the dumps of N namespaces) into the child's ru_maxrss at exec."""


def run_netplan(*args: str, profile: Path | None = None) -> tuple[int, str, float | None]:
    """(exit code, output tail, peak RSS in MB or None) of one netplan process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.NamedTemporaryFile("r") as rss:
        wrap = [TIME, "-q", "-f", "%M", "-o", rss.name] if os.access(TIME, os.X_OK) else []
        process = subprocess.Popen(
            [*wrap, *netplan_argv(*args, profile=profile)], cwd=REPO, env=Env.netplan,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, text=True,
        )
        code = procwait.wait(process, ipbatch.TIMEOUT)
        out.seek(0)
        tail = out.read().strip().splitlines()[-8:]
        kilobytes = rss.read().strip().splitlines()
    peak = int(kilobytes[-1]) / 1024 if kilobytes and kilobytes[-1].isdigit() else None
    return code, " | ".join(tail), peak


class Netplan:
    """netplan's way: FILE (files["netplan"]) holds N containers for apply and check, and
    N+1 for the add and the destroy (`before`)."""

    def __init__(
        self, files: dict[str, Path], profile: Path | None = None, label: str = ""
    ) -> None:
        self.files = files
        self.file = files["netplan"]
        self.profile = profile
        """A directory: run each command under cProfile and write its profile there."""
        self.label = label
        self.rss_mb: float | None = None

    def command(self, op: str) -> Callable[[], None]:
        args = {
            "apply": ("apply", str(self.file), "--yes"),
            "check": ("check", str(self.file)),
            "check-again": ("check", str(self.file)),
            "add": ("apply", str(self.file), "--yes"),
            "destroy": ("destroy", str(self.file), "--yes"),
        }[op]

        def action() -> None:
            profile = self.profile / f"netplan-{op}-{self.label}.prof" if self.profile else None
            code, tail, self.rss_mb = run_netplan(*args, profile=profile)
            if code != 0:
                what = "reported drift right after apply" if args[0] == "check" else "failed"
                raise Failure(f"netplan {' '.join(args[:1])} ({op}) {what} (exit {code}): {tail}")

        return action

    def before(self, op: str) -> Callable[[], None]:
        """The edit made before `op` is timed: N containers before the apply, N+1 before
        the add."""
        source = {"apply": "n", "add": "n+1"}.get(op)

        def edit() -> None:
            if source is not None:
                self.file.write_bytes(self.files[source].read_bytes())

        return edit


def profile_netplan(ctx: Context, out: Path) -> None:
    """One extra, untimed netplan apply/check/add/destroy under cProfile; prints hot spots."""
    out.mkdir(parents=True, exist_ok=True)
    label = f"{ctx.layout}-N{ctx.topo.n}"
    netplan = Netplan(ctx.files, profile=out, label=label)
    for op in OPS:
        netplan.before(op)()
        try:
            netplan.command(op)()
        except Failure as exc:
            ctx.run.note(f"profile of {op} at N={ctx.topo.n}: {exc}")
            cleanup(ctx.topo.grown())
            return
        path = out / f"netplan-{op}-{label}.prof"
        text = io.StringIO()
        pstats.Stats(str(path), stream=text).sort_stats("tottime").print_stats(12)
        print(f"\n### cProfile, netplan {op}, {ctx.layout} N={ctx.topo.n} ({path})\n"
              f"{text.getvalue()}", file=sys.stderr)


def warm_up(path: Path) -> None:
    """An untimed, read-only `netplan check` (pending changes, exit 2): fills the page
    cache before the first timed netplan command."""
    run_netplan("check", str(path))


def incremental_plan(topo: Topo, files: dict[str, Path], layout: str, run: Run) -> None:
    """Untimed, with N containers in place: netplan's plan for N+1 (each step is one
    netlink write or one small batch of them) and whether every step is the new container's."""
    result = subprocess.run(
        netplan_argv("plan", "--json", str(files["n+1"])), cwd=REPO, env=Env.netplan,
        capture_output=True, text=True, timeout=ipbatch.TIMEOUT,
    )
    try:
        [host] = json.loads(result.stdout)["hosts"].values()
    except (ValueError, KeyError) as exc:
        run.note(f"plan of the incremental add at N={topo.n}: unreadable ({exc})")
        return
    new = topo.grown().containers[-1]
    kernel = [c for c in host["changes"] if c["kind"] not in FILE_KINDS]
    keys = [change["key"] for change in kernel]
    others = [k for k in keys if new.name not in k and new.veth not in k]
    run.plans.append({
        "layout": layout, "n": topo.n, "steps": host["steps"], "kernel_steps": len(kernel),
        "file_steps": host["steps"] - len(kernel), "keys": keys,
        "kinds": sorted({change["kind"] for change in kernel}),
        "only_new": not others, "others": others,
    })


def monitor_add(ctx: Context, ways: Sequence[str]) -> None:
    """Untimed, after the timed rounds of a size (a monitor process costs CPU): for each of
    MONITORED_WAYS, apply N, add one container while `ip monitor all-nsid` records every
    kernel change notification (bench/add_monitor.py) and strace decodes every netlink
    message sent (bench/add_writes.py), destroy; the notifications, attributed to the new
    container or to other objects, and the messages counted go to run.monitors."""
    grown = ctx.topo.grown()
    new = grown.containers[-1]
    for way in [w for w in MONITORED_WAYS if w in ways]:
        made = make_way(way, ctx)
        try:
            made.before("apply")()
            made.actions["apply"]()
            made.before("add")()
            writes: dict[str, Any] = {}
            seen = add_monitor.observe_add(
                partial(add_writes.count_into, writes, made.actions["add"]), new)
            made.actions["destroy"]()
        except (Failure, ipbatch.CommandError, add_monitor.MonitorError, add_writes.TraceError,
                subprocess.TimeoutExpired, OSError) as exc:
            ctx.run.note(f"ip monitor of {way}'s add at {ctx.layout} N={ctx.topo.n}: {exc}")
            cleanup(grown)
        else:
            ctx.run.monitors.append({"layout": ctx.layout, "n": ctx.topo.n, "way": way,
                                     "container": new.name, **seen, "netlink": writes})
            print(f"  {ctx.layout} N={ctx.topo.n} {way} add under ip monitor: "
                  f"{seen['notifications']} notifications, {seen['new_container']} for "
                  f"{new.name}, {seen['bridge']} for its bridge, {seen['other']} other; "
                  f"{writes['writes']} netlink writes (strace)",
                  file=sys.stderr)
        finally:
            made.close()
        settle(ctx.baseline, grown, ctx.run, f"ip monitor of {way}'s add")


# --- netplan's floor -----------------------------------------------------------------------

RAW_OBSERVE = REPO / "bench" / "raw_observe.py"
FLOOR_CODE = {
    "start": "pass",
    "deps": f"import {', '.join(DEPENDENCIES)}",
    "imports": f"import {', '.join(IMPORTS)}",
}
"""The floors that are a `python -c` (bench_report.FLOORS); the others run RAW_OBSERVE."""


def floor_argv(kind: str) -> list[str]:
    if kind in FLOOR_CODE:
        return [sys.executable, "-c", FLOOR_CODE[kind]]
    option = {"imports+observe": ["--imports"], "cli+observe": ["--cli"]}.get(kind, [])
    return [sys.executable, str(RAW_OBSERVE), *option]


def run_floor(kind: str, namespaces: int) -> float:
    """Seconds from start to exit of the process of floor `kind`, started as netplan's
    commands are (same interpreter, directory and environment); Failure if it failed or,
    observing, did not see `namespaces` named namespaces."""
    start = time.perf_counter()
    result = subprocess.run(
        floor_argv(kind), cwd=REPO, env=Env.netplan, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=ipbatch.TIMEOUT,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        tail = " | ".join(result.stderr.strip().splitlines()[-4:])
        raise Failure(f"floor {kind} failed (exit {result.returncode}): {tail}")
    if kind not in FLOOR_CODE:
        try:
            seen = json.loads(result.stdout)["namespaces"]
        except (ValueError, KeyError) as exc:
            raise Failure(f"floor {kind}: unreadable output {result.stdout[:80]!r}") from exc
        if seen != namespaces:
            raise Failure(f"floor {kind} saw {seen} namespaces, not {namespaces}")
    return seconds


def measure_floor(round_: int, ctx: Context) -> None:
    """netplan's floor in this round, right after its check, with the N containers it made
    in place: each of FLOORS, timed as a process."""
    namespaces = ctx.topo.n + len(ctx.baseline["netns"])
    for kind in FLOORS:
        try:
            seconds: float | None = run_floor(kind, namespaces)
            error = None
        except (Failure, subprocess.TimeoutExpired, OSError) as exc:
            seconds, error = None, str(exc)
            ctx.run.note(f"{ctx.layout} N={ctx.topo.n} round {round_}: {exc}")
        ctx.run.measurements.append(
            Measurement(ctx.layout, ctx.topo.n, round_, FLOOR, kind, seconds, error)
        )
        if seconds is not None:
            print(f"  {ctx.layout} N={ctx.topo.n} round {round_} {FLOOR:8} {kind:15} "
                  f"{seconds:8.3f} s", file=sys.stderr)


# --- the ways ------------------------------------------------------------------------------


@dataclass
class Context:
    layout: str
    topo: Topo
    files: dict[str, Path]
    opts: ipbatch.Options
    baseline: dict[str, Any]
    run: Run


@dataclass
class Way:
    actions: dict[str, Callable[[], None]]
    """The timed action of each operation the way has."""
    close: Callable[[], None] = lambda: None
    """What to do afterwards, also after a failure."""
    rss_mb: Callable[[], float | None] = lambda: None
    """Peak RSS of the process of the last action (netplan only)."""
    before: Callable[[str], Callable[[], None]] = lambda op: lambda: None
    """What is done, untimed, before an operation's action (netplan's edit of its file)."""


def make_way(way: str, ctx: Context) -> Way:
    topo, grown, opts = ctx.topo, ctx.topo.grown(), ctx.opts

    def expect(found: list[str]) -> None:
        if found:
            raise Failure(f"{way} check found {len(found)} differences: {found[:5]}")

    if way == "netplan":
        netplan = Netplan(ctx.files)
        return Way({op: netplan.command(op) for op in OPS}, before=netplan.before,
                   rss_mb=lambda: netplan.rss_mb)
    if way == "ip":
        def script(name: str) -> Callable[[], None]:
            return lambda: ipscript.run_script(ctx.files[name])

        return Way({
            "apply": script("ip-apply"),
            "check": lambda: expect(ipscript.check(topo, opts)),
            "check-again": lambda: expect(ipscript.check(topo, opts)),
            "add": script("ip-add"),
            "destroy": script("ip-destroy"),
        })
    if way == "ip-batch":
        return Way({
            "apply": lambda: ipbatch.apply(topo, opts),
            "check": lambda: expect(ipbatch.check(topo, opts)),
            "check-again": lambda: expect(ipbatch.check(topo, opts)),
            "add": lambda: ipbatch.add(grown, opts),
            "destroy": lambda: ipbatch.destroy(grown),
        })
    session = mininet_way.Session(topo)
    return Way(
        {"apply": session.apply, "add": session.add, "destroy": session.destroy}, session.close
    )


def compare_kernel_state(topo: Topo, way: str, ctx: Context) -> None:
    """Untimed, in the first round: does the kernel hold the objects the reference expects?"""
    dumps = ipbatch.dump(topo, ctx.opts)
    found = ipbatch.differences(topo, dumps, ipbatch.nft_rules(topo))
    if found:
        ctx.run.note(f"{way}, {ctx.layout} N={topo.n}: {len(found)} differences from the "
                     f"reference objects, e.g. {found[:3]}")
    c = topo.containers[0]
    v6 = {
        "bridge": ipbatch.ipv6_link_local(dumps, "", c.network.bridge),
        "veth": ipbatch.ipv6_link_local(dumps, "", c.veth),
        "eth0": ipbatch.ipv6_link_local(dumps, c.name, "eth0"),
    }
    state = ", ".join(f"{k} {'on' if on else 'off'}" for k, on in v6.items())
    ctx.run.note(f"{way}: IPv6 link-local autoconfiguration: {state}")


def measure_way(way: str, round_: int, ctx: Context) -> bool:
    """Every operation of one way, in order; False if one failed (then cleaned up)."""
    run, topo = ctx.run, ctx.topo
    made = make_way(way, ctx)
    actions, close = made.actions, made.close
    took: dict[str, float] = {}
    try:
        for op in OPS:
            if op not in actions:
                continue
            if way == "netplan" and op == "add" and round_ == 0:
                incremental_plan(topo, ctx.files, ctx.layout, run)
            made.before(op)()
            start = time.perf_counter()
            try:
                actions[op]()
            except (Failure, ipbatch.CommandError, mininet_way.MininetError,
                    subprocess.TimeoutExpired, OSError) as exc:
                run.measurements.append(Measurement(ctx.layout, topo.n, round_, way, op, None,
                                                    str(exc)))
                run.note(f"{ctx.layout} N={topo.n} round {round_}: {way} {op} FAILED: {exc}")
                close()
                cleanup(topo.grown())
                settle(ctx.baseline, topo.grown(), run, f"{way} failure")
                return False
            took[op] = seconds = time.perf_counter() - start
            rss = made.rss_mb()
            run.measurements.append(
                Measurement(ctx.layout, topo.n, round_, way, op, seconds, rss_mb=rss)
            )
            memory = f"  peak RSS {rss:.0f} MB" if rss else ""
            print(f"  {ctx.layout} N={topo.n} round {round_} {way:8} {op:7} {seconds:8.3f} s"
                  f"{memory}", file=sys.stderr)
            if round_ == 0 and way != "mininet" and op in ("apply", "add"):
                compare_kernel_state(topo if op == "apply" else topo.grown(), way, ctx)
            if way == "netplan" and op == "check":
                measure_floor(round_, ctx)
    finally:
        close()
    # Namespaces are freed by the kernel after `netns del` returns: also record the time
    # until the sandbox is back to how it started ("gone").
    left = settle(ctx.baseline, topo.grown(), run, f"{way} destroy")
    run.measurements.append(
        Measurement(ctx.layout, topo.n, round_, way, "gone", took["destroy"] + left)
    )
    return True


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: N=10, one bridge, one round, plots to bench/results/")
    parser.add_argument("--sizes", help="comma-separated N (default 10,50,100,250,500,1000)")
    parser.add_argument("--layouts", default=",".join(LAYOUTS),
                        help=f"comma-separated, of {', '.join(LAYOUTS)} (default both)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per N (default 3)")
    parser.add_argument("--ways", default=",".join(WAYS), help=f"of {','.join(WAYS)} (default all)")
    parser.add_argument("--mininet-max-n", type=int, default=0,
                        help="run Mininet only up to this N (default: every N)")
    parser.add_argument(
        "--ip-jobs", type=int, default=2, help="`ip -n NS -batch` processes run at once (default 2)"
    )
    parser.add_argument(
        "--ip-ipv6", choices=("off", "kernel"), default="off",
        help="IPv6 link-local addresses on the ip ways: off (as netplan) or kernel default",
    )
    parser.add_argument(
        "--ip-enter", choices=("ip-n", "nsenter"), default="ip-n",
        help="how the ip ways enter a namespace: `ip -n NS` or `nsenter --net=… ip`",
    )
    parser.add_argument(
        "--no-compile", action="store_true",
        help="do not compile netplan's sources first and run netplan with the environment as "
             "it is (with PYTHONDONTWRITEBYTECODE set, every process compiles each source "
             "that has no current .pyc, as in a fresh clone)",
    )
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="also run netplan once per N under cProfile, profiles in DIR")
    parser.add_argument(
        "--no-add-monitor", action="store_true",
        help="skip the untimed add of one container under `ip monitor all-nsid` after each "
             "size's rounds (netplan and ip -batch)",
    )
    parser.add_argument("--json", type=Path, help="raw results file (default bench/results/…)")
    parser.add_argument("--report", type=Path, metavar="JSON",
                        help="no measuring: print the tables and draw the plots of a saved run")
    parser.add_argument("--plots", type=Path,
                        help="directory of the PNG plots (default docs/bench; --quick: results)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or "10"
        args.layouts = "one-bridge" if args.layouts == ",".join(LAYOUTS) else args.layouts
        args.rounds = 1
    args.sizes = [int(s) for s in (args.sizes or ",".join(map(str, FULL_SIZES))).split(",")
                  if s.strip()]
    args.layouts = [s for s in args.layouts.split(",") if s.strip()]
    asked = {s.strip() for s in args.ways.split(",") if s.strip()}
    if unknown := asked - set(WAYS):
        parser.error(f"unknown way(s) {sorted(unknown)}; choose from {', '.join(WAYS)}")
    args.ways = [way for way in WAYS if way in asked]
    if unknown := set(args.layouts) - set(LAYOUTS):
        parser.error(f"unknown layout(s) {sorted(unknown)}; choose from {', '.join(LAYOUTS)}")
    if bad := [n for n in args.sizes for layout in args.layouts
               if n < LAYOUTS[layout] or n % LAYOUTS[layout]]:
        parser.error(f"N={bad[0]} does not split evenly over the layout's bridges")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    args.plots = args.plots or (RESULTS if args.quick else PLOTS)
    return args


def write_files(topo: Topo, opts: ipbatch.Options, tmp: Path) -> dict[str, Path]:
    """Everything generated before the clock starts: topology files and ip scripts."""
    files = {
        "n": tmp / f"bench-{topo.n}.yaml",
        "n+1": tmp / f"bench-{topo.n + 1}.yaml",
        "netplan": tmp / "bench-topology.yaml",
        "ip-apply": tmp / "ip-apply.sh",
        "ip-add": tmp / "ip-add.sh",
        "ip-destroy": tmp / "ip-destroy.sh",
    }
    files["n"].write_text(topo.yaml())
    files["n+1"].write_text(topo.grown().yaml())
    files["netplan"].write_text(topo.yaml())
    files["ip-apply"].write_text(ipscript.apply_script(topo, opts))
    files["ip-add"].write_text(ipscript.add_script(topo.grown(), opts))
    files["ip-destroy"].write_text(ipscript.destroy_script(topo.grown()))
    return files


def run_size(
    layout: str, n: int, args: argparse.Namespace, ways: list[str], ctx_base: dict[str, Any],
    tmp: Path,
) -> None:
    topo = Topo(n, LAYOUTS[layout])
    files = write_files(topo, ctx_base["opts"], tmp)
    ctx = Context(layout, topo, files, **ctx_base)
    ways = [w for w in ways if w != "mininet" or not args.mininet_max_n or n <= args.mininet_max_n]
    if "netplan" in ways:
        warm_up(files["n"])
    try:
        for round_ in range(args.rounds):
            for way in ways[:] if round_ % 2 == 0 else ways[::-1]:
                if not measure_way(way, round_, ctx):
                    ctx.run.note(f"{way} skipped for the other rounds at {layout} N={n}")
                    ways.remove(way)
        if not args.no_add_monitor:
            monitor_add(ctx, ways)
        if args.profile and "netplan" in ways:
            profile_netplan(ctx, args.profile)
            settle(ctx.baseline, topo.grown(), ctx.run, f"profile at {layout} N={n}")
    finally:
        cleanup(topo.grown())
        settle(ctx.baseline, topo.grown(), ctx.run, f"{layout} N={n}")


def render(run: Run, meta: dict[str, Any]) -> tuple[str, list[dict[str, Any]], list[str]]:
    """The Markdown report (tables and floors per layout, targets, notes), the rows and the
    targets."""
    layouts, sizes, ways = meta["options"]["layouts"], meta["options"]["sizes"], meta["ways"]
    rows = summarize(run, layouts, sizes)
    floors = summarize_floors(run, layouts, sizes)
    found = targets(run, rows)
    done = "" if meta.get("complete", True) else " INCOMPLETE (stopped before the end)"
    report = [
        f"Run {meta['started'][:16]} UTC{done}, {meta['options']['rounds']} round(s), load "
        f"average at the start {meta['loadavg_at_start'][0]:.2f}, at the end "
        f"{meta['machine']['loadavg_at_end'][0]:.2f}; netplan at "
        f"{meta['machine']['netplan_commit']}"
        f"{' with uncommitted changes' if meta['machine']['netplan_tree_changed'] else ''}."
    ]
    for layout in layouts:
        report += ["", f"#### {layout}", "", markdown(rows, layout, ways)]
        if floor := floor_markdown(floors, layout):
            report += ["", f"netplan's floor, {layout}:", "", floor]
    report += ["", *(f"- {line}" for line in [*found, *run.notes])]
    return "\n".join(report) + "\n", rows, found


def save(path: Path, run: Run, meta: dict[str, Any]) -> str:
    """Write the raw JSON and the Markdown next to it (also after each size, so that a run
    stopped early keeps what it measured); the Markdown text."""
    meta = {**meta, "machine": machine()}
    text, rows, found = render(run, meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".md").write_text(text)
    path.write_text(json.dumps({
        **meta,
        "summary": rows,
        "floors": summarize_floors(run, meta["options"]["layouts"], meta["options"]["sizes"]),
        "targets": found,
        "incremental_plans": run.plans,
        "add_monitors": run.monitors,
        "notes": run.notes,
        "measurements": [asdict(m) for m in run.measurements],
    }, indent=2) + "\n")
    return text


def load_run(path: Path) -> tuple[Run, dict[str, Any]]:
    """A run saved by `save` (for --report)."""
    data = json.loads(path.read_text())
    run = Run([Measurement(**m) for m in data["measurements"]], data["notes"],
              data["incremental_plans"], data.get("add_monitors", []))
    return run, data


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        saved_run, saved = load_run(args.report)
        layouts = saved["options"]["layouts"]
        print(render(saved_run, saved)[0])
        rows = summarize(saved_run, layouts, saved["options"]["sizes"])
        for plot in bench_plot.plot(rows, layouts, saved["ways"], args.plots, saved_run):
            print(f"plot: {plot}", file=sys.stderr)
        return 0
    require_sandbox()
    baseline = sandbox_state()
    if "c0" in baseline["netns"] or any(link.startswith("br-bench") for link in baseline["links"]):
        print("apply_bench: the sandbox already holds benchmark objects; start a fresh one",
              file=sys.stderr)
        return 1
    run = Run()
    load = os.getloadavg()
    if load[0] > 0.5:
        run.note(f"load average {load[0]:.2f} at the start: other work shares these CPUs")
    ways = list(args.ways)
    if "mininet" in ways and (reason := mininet_way.unavailable()):
        run.note(f"Mininet skipped: {reason}")
        ways.remove("mininet")
    opts = ipbatch.Options(args.ip_jobs, args.ip_ipv6 == "off", args.ip_enter)
    if not args.no_compile:
        bytecode.compile_sources()
        Env.netplan = bytecode.environment()
    sources = bytecode.source_stamps()
    started = datetime.now(UTC)
    path = args.json or RESULTS / f"suite-{started:%Y%m%dT%H%M%SZ}.json"
    meta: dict[str, Any] = {
        "format_version": 3,
        "started": started.isoformat(),
        "command": [sys.executable, *sys.argv],
        "loadavg_at_start": load,
        "ways": ways,
        "complete": False,
        "options": {
            "sizes": args.sizes, "layouts": args.layouts, "rounds": args.rounds,
            "ways": args.ways, "mininet_max_n": args.mininet_max_n,
            "ip_jobs": args.ip_jobs, "ip_ipv6": args.ip_ipv6, "ip_enter": args.ip_enter,
            "netplan_compiled_first": not args.no_compile,
        },
    }
    ctx_base = {"opts": opts, "baseline": baseline, "run": run}
    with tempfile.TemporaryDirectory(prefix="netplan-bench-") as tmp:
        for layout in args.layouts:
            for n in args.sizes:
                run_size(layout, n, args, ways, ctx_base, Path(tmp))
                if changed := bytecode.changed_sources(sources):
                    run.note(f"netplan's sources changed while {layout} N={n} was measured "
                             f"(the figures may mix versions): {', '.join(changed[:8])}")
                    sources = bytecode.source_stamps()
                save(path, run, meta)
    meta["complete"] = True
    print(save(path, run, meta))
    print(f"raw results: {path} (tables: {path.with_suffix('.md')})", file=sys.stderr)
    rows = summarize(run, args.layouts, args.sizes)
    for plot in bench_plot.plot(rows, args.layouts, ways, args.plots, run):
        print(f"plot: {plot}", file=sys.stderr)
    failed = any(m.error for m in run.measurements)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
