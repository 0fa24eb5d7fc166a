"""Fixtures for end-to-end tests: the CLI, and a host left as each test found it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from netplan.agent.api import observe
from tests.e2e.hostview import TOPOLOGIES, Run, assert_unchanged, netplan, snapshot


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
            netplan("destroy", path, "--yes")
    assert_unchanged(before, snapshot())


def owns_anything(topology: str) -> bool:
    """Asked of the agent in-process: a CLI destroy per example per test costs seconds."""
    return bool(observe(topology).resources)
