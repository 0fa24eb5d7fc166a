"""Test tiers by directory: unit (pure, anywhere); kernel, e2e, multihost, reliability (root,
sandbox only)."""

from __future__ import annotations

import os

import pytest

SANDBOXED_TIERS = ("kernel", "e2e", "multihost", "reliability")


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
