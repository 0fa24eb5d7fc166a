"""A fresh two-host lab per test (about 0.1 s), removed after it, leaving nothing behind;
or one per test class (class_lab), for tests that share what is applied on it."""

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
    yield from two_hosts(lab_dir)


@pytest.fixture(scope="class")
def class_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A two-host lab for all the tests of a class (NETPLAN_LAB_DIR set meanwhile)."""
    directory = tmp_path_factory.mktemp("class-lab") / "lab"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NETPLAN_LAB_DIR", str(directory))
        yield from two_hosts(directory)


def two_hosts(lab_dir: Path) -> Iterator[Lab]:
    """hostA and hostB up; then down, their processes gone, the machine as it was."""
    before = snapshot()
    yield up(["hostA", "hostB"], lab_dir)
    pids = [host.process.pid for host in Lab.load(lab_dir).hosts.values()]
    down(lab_dir)
    assert not lab_dir.exists()
    assert not [pid for pid in pids if alive(pid)]
    assert_unchanged(before, snapshot())
