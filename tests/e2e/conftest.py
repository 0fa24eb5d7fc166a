"""Fixtures for end-to-end tests: the CLI, and a host left as each test found it."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
import yaml

from netplan.agent.api import observe
from tests.e2e.hostview import TOPOLOGIES, Run, assert_unchanged, netplan, snapshot

CALL_FAILED = pytest.StashKey[bool]()
"""Set on a test item once its call has run: whether it failed."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture
def run() -> Run:
    return netplan


@pytest.fixture
def clean_host() -> Iterator[None]:
    """Each test leaves the sandbox as it found it: destroy what a topology made."""
    before = snapshot()
    yield
    for path in TOPOLOGIES.glob("*.yaml"):
        if owns_anything(yaml.safe_load(path.read_text())["name"]):
            netplan("destroy", path, "--yes", "--replace")
    assert_unchanged(before, snapshot())


def owns_anything(topology: str) -> bool:
    """Asked of the agent in-process: a CLI destroy per example per test costs seconds."""
    return bool(observe(topology).resources)


@pytest.fixture(scope="class")
def class_topology(request: pytest.FixtureRequest) -> Iterator[Path]:
    """The test class's TOPOLOGY, applied once for all its tests (each of which leaves it
    in sync: `check` exits 0 at its end) instead of applied and destroyed by each.
    After the last test it is destroyed, a second plan is empty, and the host is as the
    class found it."""
    path: Path = request.cls.TOPOLOGY
    before = snapshot()
    netplan("apply", path, "--yes", check=True)
    yield path
    netplan("destroy", path, "--yes", "--replace", check=True)
    assert netplan("plan", path, "--destroy", "--detailed-exitcode").returncode == 0
    assert_unchanged(before, snapshot())


@pytest.fixture
def applied(request: pytest.FixtureRequest, class_topology: Path) -> Iterator[Path]:
    """The class's applied topology for one test; applied again if the test failed, so
    that the next test starts in sync whatever this one left (whichever file it applied)."""
    yield class_topology
    if request.node.stash.get(CALL_FAILED, True):
        netplan("apply", class_topology, "--yes", "--replace", check=True)


@pytest.fixture
def tx(tmp_path: Path, run: Run) -> Iterator[Path]:
    """A directory for this test's topologies; whatever they made is destroyed after (the
    tests remove the objects they make themselves, to show they are still there), whichever
    of them it was last applied from."""
    yield tmp_path
    for path in tmp_path.glob("*.yaml"):
        run("destroy", path, "--yes", "--replace")
