"""A fresh two-host lab per test (about 0.1 s), removed after it, leaving nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.lab import Lab, down, up
from tests.e2e.hostview import assert_unchanged, snapshot
from tests.multihost.labview import alive


@pytest.fixture
def lab_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The lab's directory; `--provider lab` finds it through NETPLAN_LAB_DIR."""
    directory = tmp_path / "lab"
    monkeypatch.setenv("NETPLAN_LAB_DIR", str(directory))
    return directory


@pytest.fixture
def lab(lab_dir: Path) -> Iterator[Lab]:
    before = snapshot()
    yield up(["hostA", "hostB"], lab_dir)
    pids = [host.process.pid for host in Lab.load(lab_dir).hosts.values()]
    down(lab_dir)
    assert not lab_dir.exists()
    assert not [pid for pid in pids if alive(pid)]
    assert_unchanged(before, snapshot())
