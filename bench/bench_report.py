"""The suite's results: raw measurements, medians, pair-by-pair ratios, tables, targets,
and netplan's floor (what any process of this interpreter with these dependencies costs)."""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import ipbatch

WAYS = ("netplan", "ip", "ip-batch", "mininet")
WAY_TITLES = {
    "netplan": "netplan",
    "ip": "ip per command",
    "ip-batch": "ip -batch",
    "mininet": "Mininet",
}
OPS = ("apply", "check", "check-again", "add", "destroy")
REPORTED = (*OPS, "gone")
"""`check`: the first check after the apply; `check-again`: the same check once more (for
netplan, through its compile cache; the other ways do the same work twice). `add`: one more
container at size N. `gone`: destroy plus the wait until the sandbox has nothing of the
topology left (the kernel frees namespaces after `ip netns del` returns)."""
PANELS = ("apply", "check", "add", "destroy")
"""The plots' panels; `check-again` is drawn in `check`'s."""
OP_TITLES = {
    "apply": "apply from empty",
    "check": "no-op check",
    "check-again": "no-op check, again",
    "add": "add one container",
    "destroy": "destroy",
    "gone": "destroy until gone",
}

FLOOR = "floor"
"""The `way` of the floor's measurements (bench/apply_bench.py measure_floor)."""
FLOORS = ("start", "deps", "imports", "observe", "imports+observe", "cli+observe")
"""Each a process, timed from start to exit like netplan's commands: `python -c pass`;
importing the chosen dependencies (typer, pydantic, yaml); those and netplan's model;
bench/raw_observe.py, which dumps the links, addresses and routes of every namespace over
raw netlink without decoding them; the same after the imports, all in one process; and
after typer only (a check that its compile cache spares loading the file imports neither
pydantic, yaml nor the model)."""
FLOOR_TITLES = {
    "start": "floor: interpreter start",
    "deps": "floor: start+deps",
    "imports": "floor: start+imports",
    "observe": "floor: raw netlink observe",
    "imports+observe": "floor: start+imports+raw observe",
    "cli+observe": "floor: start+CLI+raw observe",
}
FLOOR_OF_OP = {
    "apply": "imports", "check": "cli+observe", "check-again": "cli+observe",
    "add": "imports", "destroy": "start",
    "gone": "start",
}
"""The floor of each operation: a command that loads the file pays start+imports before it
touches the kernel; the no-op check reads the kernel's state (the apply before it left
the compile cache its desired state: it imports typer only); a destroy of a file the
compile cache knows loads nothing (only the interpreter's start is certain). (The
kernel's work of apply, add and destroy is not in their floor: the ip -batch way is close
to it.)"""
FLOOR_PARTS = {
    "interpreter start": ("start", None),
    "deps import": ("deps", "start"),
    "model import": ("imports", "deps"),
    "raw observe less start": ("observe", "start"),
}
"""Parts of the floor: the difference of two floors, taken round by round."""

# The targets (issue 7), whole process, measured in the same run.
TARGET_N = 500
TARGET_ADD_N = 1000
TARGET_RSS_N = 1000
TARGET_APPLY_VS_BATCH = 0.8
TARGET_APPLY_VS_IP = 0.2
TARGET_CHECK_SECONDS = 0.5
TARGET_CHECK_VS_DUMPS = 0.25
TARGET_ADD_OVER_CHECK = 0.1
TARGET_RSS_MB = 300.0


@dataclass
class Measurement:
    layout: str
    n: int
    round: int
    way: str
    op: str
    seconds: float | None
    error: str | None = None
    rss_mb: float | None = None
    """Peak resident memory of the measured process (netplan only)."""


@dataclass
class Run:
    measurements: list[Measurement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    """netplan's plan for the incremental step: how many steps, for which objects."""
    monitors: list[dict[str, Any]] = field(default_factory=list)
    """The incremental add watched with `ip monitor all-nsid` (bench/add_monitor.py)."""

    def note(self, text: str) -> None:
        print(f"  note: {text}", file=sys.stderr)
        if text not in self.notes:
            self.notes.append(text)


def seconds_of(run: Run, layout: str, n: int, way: str, op: str) -> dict[int, float]:
    return {
        m.round: m.seconds
        for m in run.measurements
        if (m.layout, m.n, m.way, m.op) == (layout, n, way, op) and m.seconds is not None
    }


def floor_seconds(run: Run, layout: str, n: int, kind: str) -> dict[int, float]:
    """A floor's seconds by round (FLOORS)."""
    return seconds_of(run, layout, n, FLOOR, kind)


def _differences(mine: dict[int, float], theirs: dict[int, float]) -> list[float]:
    """mine - theirs, round by round (rounds both have): the add's margin over the check
    is smaller than the noise between rounds, so it is taken within each round."""
    return [mine[r] - theirs[r] for r in sorted(mine.keys() & theirs.keys())]


def _ratio_median(mine: dict[int, float], theirs: dict[int, float]) -> float | None:
    """The median of mine ÷ theirs taken round by round (rounds both have)."""
    ratios = [mine[r] / theirs[r] for r in sorted(mine.keys() & theirs.keys())]
    return statistics.median(ratios) if ratios else None


def summarize(run: Run, layouts: Sequence[str], sizes: Sequence[int]) -> list[dict[str, Any]]:
    """One row per (layout, N, operation): each way's median, and netplan ÷ each other way
    taken round by round (both measured in the same round) and then the median; and the
    operation's floor (FLOOR_OF_OP), its median and netplan ÷ floor."""
    rows = []
    for layout in layouts:
        for n in sizes:
            for op in REPORTED:
                times = {way: seconds_of(run, layout, n, way, op) for way in WAYS}
                if not any(times.values()):
                    continue
                ours = times["netplan"]
                ratios = {
                    way: [ours[r] / times[way][r] for r in sorted(ours.keys() & times[way].keys())]
                    for way in WAYS[1:]
                }
                rows.append({
                    "layout": layout,
                    "n": n,
                    "op": op,
                    "median": {w: statistics.median(t.values()) if t else None
                               for w, t in times.items()},
                    "ratio_median": {w: statistics.median(r) if r else None
                                     for w, r in ratios.items()},
                    "ratios": ratios,
                    "rounds": {w: len(t) for w, t in times.items()},
                    "floor": _floor_of(run, layout, n, op, ours),
                })
    return rows


def _floor_of(
    run: Run, layout: str, n: int, op: str, netplan: dict[int, float]
) -> dict[str, Any]:
    kind = FLOOR_OF_OP[op]
    times = floor_seconds(run, layout, n, kind)
    return {
        "kind": kind,
        "title": FLOOR_TITLES[kind],
        "median": statistics.median(times.values()) if times else None,
        "netplan_ratio_median": _ratio_median(netplan, times),
    }


def summarize_floors(
    run: Run, layouts: Sequence[str], sizes: Sequence[int]
) -> list[dict[str, Any]]:
    """One row per (layout, N) with floors: each floor's median, and each of FLOOR_PARTS
    (a difference taken round by round, then the median)."""
    rows = []
    for layout in layouts:
        for n in sizes:
            times = {kind: floor_seconds(run, layout, n, kind) for kind in FLOORS}
            if not any(times.values()):
                continue
            parts = {}
            for part, (kind, minus) in FLOOR_PARTS.items():
                base = times[minus] if minus else dict.fromkeys(times[kind], 0.0)
                diffs = [times[kind][r] - base[r] for r in sorted(times[kind].keys() & base.keys())]
                parts[part] = statistics.median(diffs) if diffs else None
            rows.append({
                "layout": layout,
                "n": n,
                "median": {kind: statistics.median(t.values()) if t else None
                           for kind, t in times.items()},
                "parts": parts,
                "rounds": {kind: len(t) for kind, t in times.items()},
            })
    return rows


def fmt(value: float | None, unit: str = " s") -> str:
    if value is None:
        return "—"
    return f"{value:.2f}x" if unit == "x" else f"{value:.3f}{unit}"


def ratio_cell(row: dict[str, Any], way: str) -> str:
    per_round = row["ratios"][way]
    if not per_round:
        return "—"
    spread = f" ({min(per_round):.2f} to {max(per_round):.2f})" if len(per_round) > 1 else ""
    return f"{row['ratio_median'][way]:.2f}x{spread}"


def _floor_median(row: dict[str, Any]) -> float | None:
    floor: dict[str, Any] | None = row.get("floor")
    return floor["median"] if floor else None


def markdown(rows: Sequence[dict[str, Any]], layout: str, ways: Sequence[str]) -> str:
    """The table of one layout: each way's median, netplan's floor next to netplan's (if
    this run measured it), netplan ÷ each other way."""
    mine = [row for row in rows if row["layout"] == layout]
    floored = "netplan" in ways and any(_floor_median(row) is not None for row in mine)
    others = [w for w in ways if w != "netplan"]
    titles = [WAY_TITLES[w] for w in ways]
    if floored:
        titles.insert(ways.index("netplan") + 1, "netplan's floor")
    head = ["N", "operation", *titles, *(f"netplan ÷ {WAY_TITLES[w]}" for w in others)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in mine:
        cells = [str(row["n"]), OP_TITLES[row["op"]]]
        cells += [fmt(row["median"][w]) for w in ways]
        if floored:
            cells.insert(2 + ways.index("netplan") + 1, fmt(_floor_median(row)))
        cells += [ratio_cell(row, w) for w in others]
        lines.append("| " + " | ".join(cells) + " |")
    if floored:
        lines += ["", "netplan's floor: start+imports for apply and add (the interpreter "
                      "starts; typer, pydantic, yaml and netplan's model are imported); the "
                      "interpreter's start for destroy (the compile cache knows the file: "
                      "nothing is loaded); for the no-op check, first and again, "
                      "start+CLI+raw observe (typer imported, then the links, addresses and "
                      "routes of every namespace dumped over raw netlink, not decoded: the "
                      "apply left the compile cache the desired state it applied, which "
                      "spares the check pydantic, yaml and the model). No process of this "
                      "interpreter with these dependencies does the command in less. Measured "
                      "in every round, right after netplan's check."]
    return "\n".join(lines)


def floor_markdown(floors: Sequence[dict[str, Any]], layout: str) -> str:
    """The floor of one layout by N, in parts (medians of round-by-round differences) and
    as measured whole; "" if this run has none."""
    mine = [row for row in floors if row["layout"] == layout]
    if not mine:
        return ""
    whole = ("imports", "observe", "imports+observe", "cli+observe")
    head = ["N", *FLOOR_PARTS, *(FLOOR_TITLES[kind] for kind in whole)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in mine:
        cells = [str(row["n"]), *(fmt(row["parts"][part]) for part in FLOOR_PARTS),
                 *(fmt(row["median"].get(kind)) for kind in whole)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Each floor is a process timed from start to exit (median of rounds): "
                  "`python -c pass`; `import typer, pydantic, yaml`; the same and "
                  "`netplan.topology.model`; "
                  "bench/raw_observe.py (links, addresses and main-table routes of the root "
                  "and every namespace over raw netlink, replies counted, not decoded), alone, "
                  "after those imports, and after `import typer` only (CLI: a check through the "
                  "compile cache imports no more of the dependencies). The parts "
                  "are differences taken round by round: "
                  "deps import = start+deps - start, model import = start+imports - "
                  "start+deps, raw observe less start = floor: raw netlink observe - interpreter "
                  "start."]
    return "\n".join(lines)


def _row(rows: Sequence[dict[str, Any]], layout: str, n: int, op: str) -> dict[str, Any] | None:
    return next(
        (r for r in rows if (r["layout"], r["n"], r["op"]) == (layout, n, op)), None
    )


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "NOT met")


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def _floor_words(row: dict[str, Any], value: float | None, limit: float, shown: str) -> str:
    """"; floor (KIND) SHOWN" and whether the target `limit` lies under the floor's `value`
    (then no process of this interpreter with these dependencies reaches it); "" if the
    floor was not measured."""
    if value is None:
        return ""
    reach = "above the target: out of reach" if value > limit else "under the target"
    kind = FLOOR_TITLES[row["floor"]["kind"]].removeprefix("floor: ")
    return f"; floor ({kind}) {shown}, {reach}"


def _destroy_floor(run: Run, layout: str, n: int) -> str:
    """"; floor ..." of the destroy target: the interpreter's start against the script, and
    followed by the script's own deletes (the kernel work netplan has to do as well; the
    script is one `ip` process doing nothing else), both round by round."""
    imports = seconds_of(run, layout, n, FLOOR, FLOOR_OF_OP["destroy"])
    script = seconds_of(run, layout, n, "ip-batch", "destroy")
    both = {r: imports[r] + script[r] for r in imports.keys() & script.keys()}
    if not both:
        return ""
    alone, ratio = statistics.median(imports.values()), _ratio_median(imports, script)
    total, total_ratio = statistics.median(both.values()), _ratio_median(both, script)
    reach = "above the target: out of reach" if (total_ratio or 0) > 1.0 else "under the target"
    kind = FLOOR_TITLES[FLOOR_OF_OP["destroy"]].removeprefix("floor: ")
    return (f"; floor ({kind}) {fmt(alone)} = {fmt(ratio, 'x')} the script, and "
            f"followed by the script's deletes {fmt(total)} = {fmt(total_ratio, 'x')}, {reach}")


def loglog_slope(points: Sequence[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(time) against log(N): 1.0 is linear, below 1 sublinear."""
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else None


def targets(run: Run, rows: Sequence[dict[str, Any]], layout: str = "one-bridge") -> list[str]:
    """The issue's targets, read from this run (one bridge); where N is not in the run, the
    largest N measured is reported as the closest figure."""
    found = []
    sizes = sorted({r["n"] for r in rows if r["layout"] == layout and r["median"]["netplan"]})
    if not sizes:
        return [f"targets: no netplan {layout} results in this run"]

    def nearest(target: int) -> int:
        return target if target in sizes else max(sizes)

    def at(n: int, target: int) -> str:
        return f"N={n}" + ("" if n == target else f" (N={target} not in this run)")

    n = nearest(TARGET_N)
    apply = _row(rows, layout, n, "apply")
    if apply:
        for way, limit, words in (
            ("ip-batch", TARGET_APPLY_VS_BATCH, f"<= {TARGET_APPLY_VS_BATCH}x ip -batch"),
            ("ip", TARGET_APPLY_VS_IP,
             f">= {1 / TARGET_APPLY_VS_IP:.0f}x faster than ip per command"),
            ("mininet", 1.0, "faster than Mininet"),
        ):
            ratio = apply["ratio_median"][way]
            found.append(
                f"apply from empty at {at(n, TARGET_N)}: netplan {fmt(apply['median']['netplan'])}"
                f" = {fmt(ratio, 'x')} {WAY_TITLES[way]} (target {words}): "
                f"{_verdict(_at_most(ratio, limit))}"
            )
    for op, which in (("check", "first after the apply"), ("check-again", "again (cached)")):
        check = _row(rows, layout, n, op)
        if not check:
            continue
        took = check["median"]["netplan"]
        ratio = check["ratio_median"]["ip-batch"]
        floor = _floor_median(check)
        floor_ratio = _ratio_median(floor_seconds(run, layout, n, FLOOR_OF_OP[op]),
                                    seconds_of(run, layout, n, "ip-batch", op))
        batches = f"{fmt(floor_ratio, 'x')} the batches"
        found.append(
            f"no-op check, {which}, at {at(n, TARGET_N)}: netplan {fmt(took)} (target <= "
            f"{TARGET_CHECK_SECONDS} s): {_verdict(_at_most(took, TARGET_CHECK_SECONDS))}"
            f"{_floor_words(check, floor, TARGET_CHECK_SECONDS, fmt(floor))}; "
            f"{fmt(ratio, 'x')} the `ip -j` batches (target <= {TARGET_CHECK_VS_DUMPS}x): "
            f"{_verdict(_at_most(ratio, TARGET_CHECK_VS_DUMPS))}"
            f"{_floor_words(check, floor_ratio, TARGET_CHECK_VS_DUMPS, batches)}"
        )
    points = [
        (r["n"], r["median"]["netplan"]) for r in rows
        if r["layout"] == layout and r["op"] == "check" and r["median"]["netplan"]
    ]
    slope = loglog_slope([p for p in points if p[0] >= 50] or points)
    if slope is not None:
        (n0, t0), (n1, t1) = min(points), max(points)
        per = (t1 - t0) / (n1 - n0) * 1000 if n1 > n0 else float("nan")
        found.append(
            f"no-op check cost in N: log-log slope {slope:.2f} for N >= 50 (1.0 = linear); "
            f"{per:.2f} ms per extra container between N={n0} and N={n1}"
        )
    n = nearest(TARGET_ADD_N)
    add, check = _row(rows, layout, n, "add"), _row(rows, layout, n, "check")
    if add and check:
        took, base = add["median"]["netplan"], check["median"]["netplan"]
        over = _differences(seconds_of(run, layout, n, "netplan", "add"),
                            seconds_of(run, layout, n, "netplan", "check"))
        ok = None if not over else statistics.median(over) <= TARGET_ADD_OVER_CHECK
        spread = (f"; add - check round by round {statistics.median(over):+.3f} s "
                  f"({min(over):+.3f} to {max(over):+.3f})") if over else ""
        found.append(
            f"add one container at {at(n, TARGET_ADD_N)}: netplan {fmt(took)}, check {fmt(base)}"
            f"{spread} (target <= check + {TARGET_ADD_OVER_CHECK} s): {_verdict(ok)}"
        )
    for plan in run.plans:
        if plan["layout"] == layout and plan["n"] == n:
            found.append(
                f"add one container at N={n}: netplan's plan has {plan['kernel_steps']} kernel "
                f"steps ({', '.join(plan['kinds'])}), all for the new container: "
                f"{'yes' if plan['only_new'] else 'NO: ' + ', '.join(plan['others'][:5])}; "
                f"and {plan['file_steps']} hosts-file steps (name resolution: one per "
                f"namespace; the namespaces sharing a file have it written once)"
            )
    found += monitor_lines(run, layout)
    n = nearest(TARGET_N)
    destroy = _row(rows, layout, n, "destroy")
    if destroy:
        ratio = destroy["ratio_median"]["ip-batch"]
        gone = _row(rows, layout, n, "gone")
        gone_ratio = gone["ratio_median"]["ip-batch"] if gone else None
        found.append(
            f"destroy at {at(n, TARGET_N)}: netplan {fmt(destroy['median']['netplan'])} = "
            f"{fmt(ratio, 'x')} the ip -batch `netns del` script (target <= 1x): "
            f"{_verdict(_at_most(ratio, 1.0))}{_destroy_floor(run, layout, n)}"
            f"; until gone {fmt(gone_ratio, 'x')}"
        )
    n = nearest(TARGET_RSS_N)
    rss = [
        m.rss_mb for m in run.measurements
        if (m.layout, m.n, m.way, m.op) == (layout, n, "netplan", "apply") and m.rss_mb
    ]
    if rss:
        found.append(
            f"peak RSS of netplan apply at {at(n, TARGET_RSS_N)}: {max(rss):.0f} MB "
            f"(target < {TARGET_RSS_MB:.0f} MB): {_verdict(max(rss) < TARGET_RSS_MB)}"
        )
    return found


MONITOR_COVERAGE = (
    "ip monitor all-nsid (add one container, untimed, after the timed rounds) sees the root "
    "namespace and every namespace with an nsid in it; a namespace made by the add gets one "
    "when its veth's host end is made, so what is done in it before is not seen (netplan: "
    "lo's marker and up, with 127.0.0.1, ::1 and their local routes; ip -batch sets lo up "
    "after the veth, so there it is seen and counted); not seen either: nftables and "
    "sysctls that change no device setting. Hosts files (/etc/netns/*/hosts, name "
    "resolution) are files, not kernel objects: counted in the plan line. The netlink "
    "writes are every rtnetlink and nftables change request the add's processes sent, "
    "decoded by strace attached to them (bench/add_writes.py): what a namespace's lo gets "
    "included; sysctls and hosts files are not netlink"
)


def _objects(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} x{count}" for key, count in counts.items())


def _monitor_verdict(seen: dict[str, Any]) -> str:
    """"K ..., all for the new container NAME (objects)" or "..., M for other objects: ..."."""
    head = f"{seen['notifications']} kernel change notifications (ip monitor all-nsid)"
    mine = _objects(seen["objects"].get("new container", {}))
    others = seen["bridge"] + seen["other"]
    if not others:
        return f"{head}, all for the new container {seen['container']} ({mine})"
    listed = []
    if seen["bridge"]:
        what = seen["bridge_changes"] or "no MAC or MTU change"
        listed.append(f"{_objects(seen['objects']['its bridge'])} (the new container's bridge: "
                      f"{what})")
    if seen["other"]:
        listed.append(_objects(seen["objects"]["other"]))
    return (f"{head}, {seen['new_container']} for the new container {seen['container']} "
            f"({mine}), {others} for other objects: {'; '.join(listed)}")


def _writes_verdict(seen: dict[str, Any]) -> str:
    """"K netlink writes (TYPE xC, ...; strace), R reads"; "" for a run without strace's count."""
    sent = seen.get("netlink")
    if not sent:
        return ""
    return (f"; {sent['writes']} netlink writes ({_objects(sent['by_type'])}; strace), "
            f"{sent['reads']} reads")


def monitor_lines(run: Run, layout: str) -> list[str]:
    """One line per N whose add was watched with ip monitor (netplan's, and ip -batch's
    add of the same container as a reference), and what the monitor covers."""
    lines = []
    for seen in sorted((m for m in run.monitors if m["layout"] == layout), key=lambda m: m["n"]):
        if seen["way"] != "netplan":
            continue
        line = f"add one at N={seen['n']}: {_monitor_verdict(seen)}{_writes_verdict(seen)}"
        reference = next((m for m in run.monitors if m["way"] == "ip-batch"
                          and (m["layout"], m["n"]) == (layout, seen["n"])), None)
        if reference:
            line += (f"; ip -batch's add, for reference: {_monitor_verdict(reference)}"
                     f"{_writes_verdict(reference)}")
        lines.append(line)
    return [*lines, MONITOR_COVERAGE] if lines else []


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=30,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        ).stdout.strip()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    cpu = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("pyroute2", "pydantic"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        **versions,
        "iproute2": ipbatch.run(["ip", "-V"]).strip(),
        "netplan_commit": _git("rev-parse", "--short", "HEAD"),
        "netplan_tree_changed": bool(_git("status", "--porcelain", "--", "netplan")),
        "loadavg_at_end": os.getloadavg(),
    }
