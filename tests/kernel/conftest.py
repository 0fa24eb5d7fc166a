"""Kernel tests: root, and only ever inside the throwaway sandbox (design principle 7).

    tests/sandbox.sh .venv/bin/python -m pytest tests/kernel -q

The guard that refuses to run outside the sandbox is in tests/conftest.py.
Each test gets its own topology name; afterwards whatever that topology still owns is
destroyed through the agent, and the test fails if anything owned is left.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from tests.kernel.kernel_helpers import destroy, owned


@pytest.fixture
def topology(request: pytest.FixtureRequest) -> Iterator[str]:
    """A topology name of this test's own; what it still owns is destroyed afterwards."""
    name = "k" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    yield name
    destroy(name)
    left = owned(name)
    assert not left, f"topology {name} still owns {sorted(left)}"
