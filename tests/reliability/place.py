"""Where a harness works: this (sandboxed) machine, or one host of a lab entered by PID.

A Place runs commands as a user logged in there would (`ip`, `nft`, `bridge`, `kill`), and
gives the `netplan` options that reach it; every harness is written once against it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Place:
    """This machine (`pid` None) or the lab host whose PID 1 is `pid` (seen from here)."""

    name: str = "local"
    pid: int | None = None
    lab_dir: Path | None = None
    options: tuple[str, ...] = field(default=())
    """What `netplan` needs to reach the place: `--provider lab --inventory DIR`."""

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = [] if self.pid is None else ["nsenter", "-t", str(self.pid), "-a", "--"]
        result = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            shown = " ".join(command)[:200]
            raise AssertionError(f"{self.name}: {shown} exited "
                                 f"{result.returncode}: {result.stderr.strip()}")
        return result

    def json(self, *command: str) -> Any:
        out = self.run(*command).stdout
        return json.loads(out) if out.strip() else []

    def sh(self, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("sh", "-c", script, check=check)

    def read(self, path: str) -> str | None:
        """A file's text, or None if it does not exist."""
        found = self.run("cat", path, check=False)
        return found.stdout if found.returncode == 0 else None


LOCAL = Place()


def each(places: Mapping[str, Place], work: Callable[[Place], T]) -> dict[str, T]:
    """`work` at every place at once, by name (the hosts of a lab are machines of their
    own: reading one need not wait for another). The first failure is raised."""
    if len(places) == 1:
        return {name: work(place) for name, place in places.items()}
    with ThreadPoolExecutor(len(places)) as pool:
        running = {name: pool.submit(work, place) for name, place in places.items()}
        return {name: future.result() for name, future in running.items()}


def lab_places(lab_dir: Path) -> dict[str, Place]:
    """Every host of the lab in `lab_dir`, by name."""
    from providers.lab import Lab

    lab = Lab.load(lab_dir)
    options = ("--provider", "lab", "--inventory", str(lab_dir))
    return {name: Place(name, host.process.pid, lab_dir, options)
            for name, host in lab.hosts.items()}
