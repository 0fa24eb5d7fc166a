"""Running netplan for a harness: the CLI as a user runs it (hostview.netplan), the same
in the background so a fault can hit it, and the checks every harness ends a round with."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.e2e.hostview import netplan
from tests.reliability import census, foreign
from tests.reliability.place import Place, each


def options(places: Mapping[str, Place]) -> tuple[str, ...]:
    """The provider options that reach `places` (the same for all of them)."""
    return next(iter(places.values())).options


def start(command: str, topology: Path, places: Mapping[str, Place]) -> subprocess.Popen[str]:
    """`netplan COMMAND TOPOLOGY --yes` in the background: the controller, killed by PID."""
    return subprocess.Popen(
        [sys.executable, "-m", "netplan", command, str(topology), "--yes", *options(places)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def timed(command: str, topology: Path, places: Mapping[str, Place]) -> float:
    """Seconds an uninterrupted `netplan COMMAND` takes, start to exit, as start() runs it."""
    began = time.monotonic()
    controller = start(command, topology, places)
    output, _ = controller.communicate(timeout=300)
    if controller.returncode != 0:
        raise AssertionError(f"netplan {command} exited {controller.returncode}:\n{output}")
    return time.monotonic() - began


def cli(*args: str | Path, places: Mapping[str, Place]) -> subprocess.CompletedProcess[str]:
    return netplan(*args, *options(places))


def converges(topology: Path, places: Mapping[str, Place]) -> str:
    """'' when one apply exits 0 and the plan after it is empty; else what went wrong."""
    applied = cli("apply", topology, "--yes", places=places)
    if applied.returncode != 0:
        return f"apply exited {applied.returncode}: {last_lines(applied)}"
    planned = cli("plan", topology, "--detailed-exitcode", places=places)
    if planned.returncode != 0:
        return f"plan after apply exited {planned.returncode}: {last_lines(planned)}"
    return ""


def destroys(topology: Path, places: Mapping[str, Place], name: str,
             baseline: Mapping[str, dict[str, Any]],
             foreigners: Mapping[str, dict[str, Any]]) -> str:
    """'' when destroy exits 0, leaves no owned object, leaves every place as its baseline
    snapshot and every foreign object as it was; else what went wrong."""
    destroyed = cli("destroy", topology, "--yes", places=places)
    if destroyed.returncode != 0:
        return f"destroy exited {destroyed.returncode}: {last_lines(destroyed)}"

    def left_as_before(place: Place) -> str:
        left = census.owned(place, name)
        if left:
            return f"{place.name}: destroy left {len(left)} owned object(s): {', '.join(left[:5])}"
        changed = foreign.touched(foreigners[place.name], foreign.inventory(place))
        if changed:
            return f"{place.name}: {len(changed)} foreign object(s) changed: {changed[0]}"
        try:
            census.assert_same_host(place, baseline[place.name], census.settled_snapshot(place))
        except AssertionError as error:
            return str(error)
        return ""

    return next((problem for problem in each(places, left_as_before).values() if problem), "")


def drift_named(checked: subprocess.CompletedProcess[str]) -> dict[str, set[str]]:
    """Every key `check --format json` names as drift, by host (none for a check that
    printed nothing)."""
    if not checked.stdout.strip():
        return defaultdict(set)
    report = json.loads(checked.stdout)
    return defaultdict(set, {
        host: {d["key"] for d in found.get("differences", [])
               if any("drift" in c for c in d.get("classes", []))}
        for host, found in report["hosts"].items()})


def last_lines(result: subprocess.CompletedProcess[str], count: int = 4) -> str:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return " | ".join(lines[-count:])
