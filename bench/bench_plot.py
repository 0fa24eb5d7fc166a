"""Log-log plots of the suite: time against N, one line per way, one panel per operation
(netplan's check again, through its compile cache, in the check's panel).

One PNG per layout (`suite-one-bridge.png`, `suite-ten-bridges.png`). matplotlib comes with
the `bench` extra (`pip install -e '.[bench]'`, which `make bench` does); without it the
suite still runs and says that it drew no plot.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_report import OP_TITLES, PANELS, WAY_TITLES, Run

MARKERS = {"netplan": "o", "ip": "s", "ip-batch": "^", "mininet": "D"}


def plot(
    rows: Sequence[dict[str, Any]], layouts: Sequence[str], ways: Sequence[str], out: Path,
    run: Run,
) -> list[Path]:
    """Draw one grid per layout into `out`; the files written."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        run.note("no plot: matplotlib is not installed (pip install -e '.[bench]')")
        return []
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for layout in layouts:
        mine = [r for r in rows if r["layout"] == layout]
        if not mine:
            continue
        fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
        for ax, op in zip(axes.flat, PANELS, strict=True):
            for way in ways:
                points = sorted(
                    (r["n"], r["median"][way]) for r in mine
                    if r["op"] == op and r["median"][way] is not None
                )
                if points:
                    xs, ys = zip(*points, strict=True)
                    ax.plot(xs, ys, marker=MARKERS[way], label=WAY_TITLES[way])
            again = sorted(
                (r["n"], r["median"]["netplan"]) for r in mine
                if op == "check" and r["op"] == "check-again" and r["median"].get("netplan")
            )
            if again:
                xs, ys = zip(*again, strict=True)
                ax.plot(xs, ys, marker="o", linestyle=":", label="netplan, again (cached)")
            floors = sorted(
                (r["n"], r["floor"]["median"]) for r in mine
                if r["op"] == op and "netplan" in ways and (r.get("floor") or {}).get("median")
            )
            if floors:
                xs, ys = zip(*floors, strict=True)
                title = next(r["floor"]["title"] for r in mine if r["op"] == op)
                ax.plot(xs, ys, linestyle="--", color="grey", label=f"netplan's {title}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(OP_TITLES[op] + (" (N → N+1)" if op == "add" else ""))
            ax.set_xlabel("containers N")
            ax.set_ylabel("seconds (median)")
            ax.grid(True, which="both", alpha=0.3)
            if ax.has_data():
                ax.legend(fontsize="small")
        bridges = "one bridge" if layout == "one-bridge" else "10 bridges of N/10"
        others = ", ".join(WAY_TITLES[way] for way in ways if way != "netplan")
        fig.suptitle(f"netplan vs {others}: {bridges}, whole process")
        fig.tight_layout()
        path = out / f"suite-{layout}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written
