"""Time and peak memory of `load_topology` (what `netplan validate` runs) on huge and
malicious inputs: each in a fresh process, so its peak RSS is its own.

    .venv/bin/python bench/hostile_inputs.py            # every input, a table
    .venv/bin/python bench/hostile_inputs.py --json

No kernel is touched: the inputs are files in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from netplan.topology.document import MAX_NODES
from netplan.topology.source import MAX_BYTES


def containers(count: int) -> str:
    """`count` containers on one /16 bridge network, list form."""
    lines = ["name: big", "networks:", "  n: {subnet: 10.0.0.0/16}", "containers:"]
    lines += [f"  c{i}: {{networks: [n]}}" for i in range(count)]
    return "\n".join(lines) + "\n"


def bare(count: int) -> str:
    """`count` containers without networks: the most containers the value limit lets in."""
    return "name: bare\ncontainers:\n" + "".join(f"  c{i}:\n" for i in range(count))


def billion_laughs(levels: int = 9) -> str:
    lines = ["name: lol", "a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for index in range(1, levels):
        name, previous = chr(ord("a") + index), chr(ord("a") + index - 1)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def sparse(size: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("wb") as handle:
            handle.write(b"name: big\n")
            handle.truncate(size)

    return write


INPUTS: dict[str, str | Callable[[Path], None]] = {
    "1,000 containers": containers(1_000),
    "10,000 containers": containers(10_000),
    "50,000 containers (over the value limit)": containers(50_000),
    f"{MAX_NODES // 2 - 1_000:,} bare containers (largest accepted)": bare(MAX_NODES // 2 - 1_000),
    "100 MB file": sparse(100 * 2**20),
    f"{MAX_BYTES // 2**20} MiB of comment (largest accepted size)": (
        "name: big\n# " + "x" * (MAX_BYTES - 16) + "\n"
    ),
    "10,000 levels of [": "name: deep\nx: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "10,000 levels of - (block)": "name: deep\nx:\n" + "- " * 10_000 + "leaf\n",
    "billion laughs (9 levels of 9)": billion_laughs(),
    "duplicate keys x 10,000": "name: d\nhosts:\n" + "  a: {}\n" * 10_000,
    "top level is a scalar": "just text\n",
    "top level is a list": "- name: a\n- name: b\n",
    "non-UTF-8 bytes": "name: caf\udcff\n",
}

CHILD = """
import resource, sys, time
start = time.perf_counter()
from netplan.errors import TopologyError
from netplan.topology.loader import load_topology
loaded = time.perf_counter()
try:
    t = load_topology(sys.argv[1]); outcome = f"valid, {len(t.containers)} containers"
except TopologyError as e:
    first = e.problems[0]
    where = f"{first.line}:{first.column} " if first.line else ""
    outcome = f"{len(e.problems)} problem(s): {where}{first.message}"
print(time.perf_counter() - loaded, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, outcome,
      sep="\\t")
"""
"""Seconds for load_topology alone (imports left out), peak RSS in KiB, the outcome."""


def measure(name: str, make: str | Callable[[Path], None], folder: Path) -> dict[str, object]:
    path = folder / "input.yaml"
    if isinstance(make, str):
        path.write_bytes(make.encode("utf-8", errors="surrogateescape"))
    else:
        make(path)
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
    ).stdout
    seconds, rss, outcome = out.rstrip("\n").split("\t")
    return {
        "input": name,
        "bytes": path.stat().st_size,
        "load_s": round(float(seconds), 2),
        "process_s": round(time.perf_counter() - started, 2),
        "peak_rss_mib": round(int(rss) / 1024),
        "outcome": outcome,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, make in INPUTS.items():
            rows.append(measure(name, make, Path(folder)))
            if not args.json:
                row = rows[-1]
                print(
                    f"| {row['input']} | {row['bytes']:,} | {row['load_s']} | "
                    f"{row['peak_rss_mib']} | {row['outcome']} |",
                    flush=True,
                )
    if args.json:
        print(json.dumps({"load_avg": os.getloadavg(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
