"""The reliability tier: fault-injection harnesses on the real kernel, in the sandbox.

`make test` runs the short version; `make reliability` (NETPLAN_RELIABILITY=long) the long
one. Every place a harness works on carries foreign objects (tests/reliability/foreign.py)
for the whole run. Each harness adds its figures to FIGURES; they are printed at the end of
the session and, with NETPLAN_RELIABILITY_REPORT=FILE, written there as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from providers.lab import Lab, down, up
from tests.reliability import census, foreign
from tests.reliability.place import LOCAL, Place, lab_places
from tests.reliability.workload import LAB_HOSTS

FIGURES: list[dict[str, Any]] = []


@dataclass(frozen=True)
class Scale:
    long: bool
    local_trials: tuple[int, ...]
    """The crash trials to run on this host, by number (a trial's choices depend only on
    the seed and its number: the short run's are some of the long run's)."""
    lab_trials: tuple[int, ...]
    drift_changes: int
    lab_drift_changes: int
    seed: str
    only_trial: int | None
    """NETPLAN_RELIABILITY_TRIAL: replay that one trial alone."""


def long_run() -> bool:
    """`make reliability` (NETPLAN_RELIABILITY=long), not the short run of `make test`."""
    return os.environ.get("NETPLAN_RELIABILITY") == "long"


@pytest.fixture(scope="session")
def scale() -> Scale:
    long = long_run()
    only = os.environ.get("NETPLAN_RELIABILITY_TRIAL")
    return Scale(  # short: an apply killed here, and a lab host's agent killed there
        long=long,
        local_trials=tuple(range(50)) if long else (0,),
        lab_trials=tuple(range(21)) if long else (7,),
        drift_changes=100 if long else 4,
        lab_drift_changes=40 if long else 4,
        seed=os.environ.get("NETPLAN_RELIABILITY_SEED", "6"),
        only_trial=int(only) if only else None,
    )


@pytest.fixture
def local(tmp_path: Path) -> Iterator[dict[str, Place]]:
    """This sandbox, with foreign objects on it; left as it was found."""
    before = census.snapshot(LOCAL)
    foreign.make(LOCAL)
    yield {"local": LOCAL}
    for pid in census.processes(LOCAL):  # a run that stopped half-way: its processes
        os.kill(pid, signal.SIGKILL)     # outlive the sandbox otherwise
    foreign.remove(LOCAL)
    census.assert_same_host(LOCAL, before, census.snapshot(LOCAL))


@pytest.fixture(scope="module")
def lab() -> Iterator[dict[str, Place]]:
    """A lab of three hosts, each with foreign objects; removed after the module."""
    before = census.snapshot(LOCAL)
    with tempfile.TemporaryDirectory(prefix="netplan-reliability-") as folder:
        directory = Path(folder) / "lab"
        up(list(LAB_HOSTS), directory)
        try:
            places = lab_places(directory)
            for place in places.values():
                foreign.make(place)
            yield places
        finally:
            pids = [host.process.pid for host in Lab.load(directory).hosts.values()]
            down(directory)
            assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    census.assert_same_host(LOCAL, before, census.snapshot(LOCAL))


def record(figures: dict[str, Any]) -> None:
    FIGURES.append(figures)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for figures in FIGURES:
        terminalreporter.write_line(json.dumps(figures))
    report = os.environ.get("NETPLAN_RELIABILITY_REPORT")
    if report:
        Path(report).write_text(json.dumps(FIGURES, indent=2) + "\n")
