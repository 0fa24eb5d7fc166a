"""Kernel tests: root, and only ever inside the throwaway sandbox (design principle 7).

    tests/sandbox.sh .venv/bin/python -m pytest tests/kernel -q

Each test gets its own topology name; afterwards whatever that topology still owns is
destroyed through the agent, and the test fails if anything owned is left.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest

from tests.kernel.kernel_helpers import destroy, owned

HINT = "run them inside the sandbox: tests/sandbox.sh .venv/bin/python -m pytest tests/kernel"


@pytest.fixture(autouse=True)
def _sandboxed() -> None:
    """Fail (not skip) anywhere but in the sandbox: a skipped kernel suite looks green."""
    if os.environ.get("NETPLAN_SANDBOX") != "1":
        pytest.fail(f"kernel tests must not touch this machine's network; {HINT}", pytrace=False)
    if os.geteuid() != 0:
        pytest.fail(f"kernel tests need root; {HINT} as root", pytrace=False)


@pytest.fixture
def topology(request: pytest.FixtureRequest, _sandboxed: None) -> Iterator[str]:
    """A topology name of this test's own; what it still owns is destroyed afterwards."""
    name = "k" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    yield name
    destroy(name)
    left = owned(name)
    assert not left, f"topology {name} still owns {sorted(left)}"
