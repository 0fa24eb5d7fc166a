"""The timed netplan processes run from compiled bytecode, as an installed package does.

pip compiles a package's modules when it installs it. A clone has no .pyc files, and
where PYTHONDONTWRITEBYTECODE is set (it is in our shells) every netplan process would
compile its sources again, a cost no user pays. So before anything is timed,
compile_sources() runs `python -m compileall -q` over netplan/ and providers/, and the
timed processes run with environment(). (The dependencies in the venv and the standard
library were compiled when they were installed.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("netplan", "providers")


def environment() -> dict[str, str]:
    """This process's environment without PYTHONDONTWRITEBYTECODE and PYTHONPYCACHEPREFIX:
    Python reads the .pyc that compile_sources() wrote beside the sources, as it reads an
    installed package's; a source that changes during a run (another change being made in
    the tree) is compiled and written again once, not in every process."""
    hidden = {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}
    return {k: v for k, v in os.environ.items() if k not in hidden}


def compile_sources() -> None:
    """`python -m compileall -q netplan providers` with this interpreter (the .pyc name
    carries its version) into __pycache__/ beside the sources (git-ignored)."""
    result = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=REPO, env=environment(),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise SystemExit(f"cannot compile netplan's sources: {' | '.join(output)}")


def source_stamps() -> dict[str, int]:
    """Modification time of every source of PACKAGES, to tell whether they changed during
    a run."""
    stamps = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            try:
                stamps[str(path.relative_to(REPO))] = path.stat().st_mtime_ns
            except FileNotFoundError:  # removed meanwhile
                continue
    return stamps


def changed_sources(before: dict[str, int]) -> list[str]:
    """The sources changed, added or removed since `before` (source_stamps())."""
    now = source_stamps()
    return sorted(name for name in before.keys() | now.keys() if before.get(name) != now.get(name))
