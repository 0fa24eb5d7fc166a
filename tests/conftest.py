"""Test tiers by directory: unit (pure, anywhere); kernel, e2e, multihost, reliability (root,
sandbox only). With pytest-xdist (`-n N`) inside the sandbox, each worker gets a sandbox of
its own."""

from __future__ import annotations

import os
import sys
from collections.abc import MutableSequence
from pathlib import Path
from typing import Any

import pytest

SANDBOXED_TIERS = ("kernel", "e2e", "multihost", "reliability")
SANDBOX = Path(__file__).with_name("sandbox.sh")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = item.path.parent.name
        if tier in SANDBOXED_TIERS:
            item.add_marker(getattr(pytest.mark, tier))


def pytest_runtest_setup(item: pytest.Item) -> None:
    sandboxed = os.environ.get("NETPLAN_SANDBOX") == "1" and os.geteuid() == 0
    if not sandboxed and any(item.get_closest_marker(t) for t in SANDBOXED_TIERS):
        pytest.fail(
            "kernel and e2e tests run only as root inside the throwaway namespace "
            "(hint: `make test`, or tests/sandbox.sh .venv/bin/python -m pytest ...)",
            pytrace=False,
        )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: MutableSequence[Any]) -> None:
    """Each worker in a throwaway sandbox of its own (tests/sandbox.sh, started afresh:
    NETPLAN_SANDBOX unset), not in the one pytest runs in: tests name their namespaces,
    bridges, lab hosts and records alike (`web`, `docker0`, /run/netplan/...), and two
    workers in one sandbox would take each other's."""
    if os.environ.get("NETPLAN_SANDBOX") != "1":
        return
    import execnet

    for index, spec in enumerate(specs):
        if spec.popen and not spec.python:
            python = f"env -u NETPLAN_SANDBOX {SANDBOX} {sys.executable}"
            named = f"//id={spec.id}" if spec.id and "id=" not in str(spec) else ""
            specs[index] = execnet.XSpec(f"{spec}//python={python}{named}")
