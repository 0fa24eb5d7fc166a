"""A reader that goes away early (`netplan … | head -1`) does not stop a command: it runs
to its end with the exit code it would have had and says nothing about the pipe; an
apply whose stdout and stderr are gone is complete on the kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.hostview import Run, assert_unchanged, netns_names, snapshot

MakeTopology = Callable[[int], Path]


@pytest.fixture
def make_topology(run: Run, tmp_path: Path) -> Iterator[MakeTopology]:
    """A topology of N containers on one bridge, destroyed after the test."""
    before = snapshot()
    path = tmp_path / "pipes.yaml"

    def make(containers: int) -> Path:
        spec = {"name": "pipes", "networks": {"front": {"subnet": "10.67.0.0/16"}},
                "containers": {f"c{i}": {"networks": ["front"]} for i in range(containers)}}
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        return path

    yield make
    if path.exists():
        run("destroy", path, "--yes", check=True)
    assert_unchanged(before, snapshot())


def netplan_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "netplan", *map(str, args)]


def gone_reader() -> int:
    """The write end of a pipe whose read end is closed already: every write fails."""
    read, write = os.pipe()
    os.close(read)
    return write


def test_a_reader_gone_mid_output_does_not_stop_the_command(
    make_topology: MakeTopology, tmp_path: Path
) -> None:
    """`plan | head -1` on a plan larger than the pipe's buffer: the write is cut, the
    command goes on (it saves the plan) and exits 2 as --detailed-exitcode says."""
    path, saved = make_topology(300), tmp_path / "plan.json"
    plan = subprocess.Popen(netplan_command("plan", path, "--detailed-exitcode", "--out", saved),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    assert plan.stdout is not None and plan.stderr is not None
    first = plan.stdout.readline()
    plan.stdout.close()
    err = plan.stderr.read()
    assert plan.wait(timeout=120) == 2
    assert first.startswith(b"host local: ") and err == b""
    assert json.loads(saved.read_text())["kind"] == "netplan-plan"


def test_an_apply_whose_readers_are_gone_applies_everything(
    make_topology: MakeTopology, run: Run
) -> None:
    """stdout and stderr both gone from the start; --verbose writes a line per step while
    the agent applies."""
    path = make_topology(20)
    gone = gone_reader()
    try:
        applied = subprocess.run(netplan_command("--verbose", "apply", path, "--yes"),
                                 stdout=gone, stderr=gone, stdin=subprocess.DEVNULL,
                                 timeout=300)  # fmt: skip
    finally:
        os.close(gone)
    assert applied.returncode == 0
    assert {f"c{i}" for i in range(20)} <= netns_names()
    assert run("check", path).returncode == 0


def test_a_failing_command_keeps_its_exit_code(tmp_path: Path) -> None:
    gone = gone_reader()
    try:
        failed = subprocess.run(netplan_command("validate", tmp_path / "missing.yaml", "--json"),
                                stdout=gone, stderr=gone, stdin=subprocess.DEVNULL,
                                timeout=60)  # fmt: skip
    finally:
        os.close(gone)
    assert failed.returncode == 1
