"""The apply benchmark's results: raw measurements, medians, ratios, the Markdown table."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import ipbatch

OPS = ("apply", "check", "destroy")
REPORTED = (*OPS, "gone")
"""`gone`: destroy plus the wait until the sandbox has nothing of the topology left."""
TARGET_APPLY_RATIO = 1.5
TARGET_CHECK_SECONDS = 2.0
TARGET_N = 500


@dataclass
class Measurement:
    n: int
    round: int
    side: str
    op: str
    seconds: float | None
    error: str | None = None


@dataclass
class Run:
    measurements: list[Measurement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        print(f"  note: {text}", file=sys.stderr)
        if text not in self.notes:
            self.notes.append(text)


def seconds_of(run: Run, n: int, side: str, op: str) -> dict[int, float]:
    return {
        m.round: m.seconds
        for m in run.measurements
        if (m.n, m.side, m.op) == (n, side, op) and m.seconds is not None
    }


def summarize(run: Run, sizes: Sequence[int]) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        for op in REPORTED:
            ours, ref = seconds_of(run, n, "netplan", op), seconds_of(run, n, "ip-batch", op)
            ratios = [ours[r] / ref[r] for r in sorted(ours.keys() & ref.keys())]
            rows.append({
                "n": n,
                "op": op,
                "netplan_median": statistics.median(ours.values()) if ours else None,
                "ip_batch_median": statistics.median(ref.values()) if ref else None,
                "ratio_median": statistics.median(ratios) if ratios else None,
                "ratios": ratios,
                "rounds": {"netplan": len(ours), "ip-batch": len(ref)},
            })
    return rows


def fmt(value: float | None, unit: str = " s") -> str:
    if value is None:
        return "—"
    return f"{value:.2f}x" if unit == "x" else f"{value:.3f}{unit}"


def markdown(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| N | operation | netplan (median) | ip -batch (median) "
        "| netplan / ip -batch (median of rounds) | per round |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        per_round = ", ".join(f"{r:.2f}" for r in row["ratios"]) or "—"
        lines.append(
            f"| {row['n']} | {row['op']} | {fmt(row['netplan_median'])} "
            f"| {fmt(row['ip_batch_median'])} | {fmt(row['ratio_median'], 'x')} | {per_round} |"
        )
    return "\n".join(lines)


def targets(rows: Sequence[dict[str, Any]]) -> list[str]:
    found = []
    for row in rows:
        if row["n"] != TARGET_N:
            continue
        if row["op"] == "apply":
            ratio = row["ratio_median"]
            verdict = "not measured" if ratio is None else (
                "met" if ratio <= TARGET_APPLY_RATIO else "NOT met"
            )
            found.append(
                f"apply at N={TARGET_N}: {fmt(ratio, 'x')} the ip -batch time "
                f"(target <= {TARGET_APPLY_RATIO}x): {verdict}"
            )
        if row["op"] == "check":
            took = row["netplan_median"]
            verdict = "not measured" if took is None else (
                "met" if took < TARGET_CHECK_SECONDS else "NOT met"
            )
            found.append(
                f"no-op check at N={TARGET_N}: {fmt(took)} (target < {TARGET_CHECK_SECONDS} s): "
                f"{verdict}"
            )
    return found


def machine() -> dict[str, Any]:
    cpu = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        pyroute2 = metadata.version("pyroute2")
    except metadata.PackageNotFoundError:
        pyroute2 = "not installed"
    return {
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "pyroute2": pyroute2,
        "iproute2": ipbatch.run(["ip", "-V"]).strip(),
        "loadavg_at_end": os.getloadavg(),
    }
