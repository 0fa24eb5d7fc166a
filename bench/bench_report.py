"""The suite's results: raw measurements, medians, pair-by-pair ratios, tables, targets."""

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
OPS = ("apply", "check", "add", "destroy")
REPORTED = (*OPS, "gone")
"""`add`: one more container at size N. `gone`: destroy plus the wait until the sandbox has
nothing of the topology left (the kernel frees namespaces after `ip netns del` returns)."""
OP_TITLES = {
    "apply": "apply from empty",
    "check": "no-op check",
    "add": "add one container",
    "destroy": "destroy",
    "gone": "destroy until gone",
}

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


def summarize(run: Run, layouts: Sequence[str], sizes: Sequence[int]) -> list[dict[str, Any]]:
    """One row per (layout, N, operation): each way's median, and netplan ÷ each other way
    taken round by round (both measured in the same round) and then the median."""
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


def markdown(rows: Sequence[dict[str, Any]], layout: str, ways: Sequence[str]) -> str:
    others = [w for w in ways if w != "netplan"]
    head = ["N", "operation", *(WAY_TITLES[w] for w in ways),
            *(f"netplan ÷ {WAY_TITLES[w]}" for w in others)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        if row["layout"] != layout:
            continue
        cells = [str(row["n"]), OP_TITLES[row["op"]]]
        cells += [fmt(row["median"][w]) for w in ways]
        cells += [ratio_cell(row, w) for w in others]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _row(rows: Sequence[dict[str, Any]], layout: str, n: int, op: str) -> dict[str, Any] | None:
    return next(
        (r for r in rows if (r["layout"], r["n"], r["op"]) == (layout, n, op)), None
    )


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "NOT met")


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


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
    check = _row(rows, layout, n, "check")
    if check:
        took = check["median"]["netplan"]
        ratio = check["ratio_median"]["ip-batch"]
        found.append(
            f"no-op check at {at(n, TARGET_N)}: netplan {fmt(took)} (target <= "
            f"{TARGET_CHECK_SECONDS} s): {_verdict(_at_most(took, TARGET_CHECK_SECONDS))}; "
            f"{fmt(ratio, 'x')} the `ip -j` batches (target <= {TARGET_CHECK_VS_DUMPS}x): "
            f"{_verdict(_at_most(ratio, TARGET_CHECK_VS_DUMPS))}"
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
        ok = None if took is None or base is None else took <= base + TARGET_ADD_OVER_CHECK
        found.append(
            f"add one container at {at(n, TARGET_ADD_N)}: netplan {fmt(took)}, check {fmt(base)} "
            f"(target <= check + {TARGET_ADD_OVER_CHECK} s): {_verdict(ok)}"
        )
    for plan in run.plans:
        if plan["layout"] == layout and plan["n"] == n:
            found.append(
                f"add one container at N={n}: netplan's plan has {plan['kernel_steps']} kernel "
                f"steps ({', '.join(plan['kinds'])}), all for the new container: "
                f"{'yes' if plan['only_new'] else 'NO: ' + ', '.join(plan['others'][:5])}; "
                f"and {plan['file_steps']} hosts files rewritten (name resolution)"
            )
    n = nearest(TARGET_N)
    destroy = _row(rows, layout, n, "destroy")
    if destroy:
        ratio = destroy["ratio_median"]["ip-batch"]
        gone = _row(rows, layout, n, "gone")
        gone_ratio = gone["ratio_median"]["ip-batch"] if gone else None
        found.append(
            f"destroy at {at(n, TARGET_N)}: netplan {fmt(destroy['median']['netplan'])} = "
            f"{fmt(ratio, 'x')} the ip -batch `netns del` script (target <= 1x): "
            f"{_verdict(_at_most(ratio, 1.0))}; until gone {fmt(gone_ratio, 'x')}"
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
