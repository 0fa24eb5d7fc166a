"""A call's namespace handles: as many stay open as the fd limit allows; past that, the
least recently used are closed and reopened when needed, with nothing leaked."""

from __future__ import annotations

import os
import resource

import pytest

from netplan.agent import links
from netplan.agent.resources import Netns
from netplan.agent.session import FDS_SPARE, MIN_OPEN, Session, max_open
from tests.kernel.kernel_helpers import create, keyed, owned

NAMES = ("s0", "s1", "s2")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_past_the_limit_the_least_recently_used_are_reopened(topology: str) -> None:
    create(topology, *(Netns(name) for name in NAMES))
    before = open_fds()
    with Session(topology, open_at_most=2) as session:
        for name in NAMES:
            assert [link.name for link in links.dump(session.sock(name))] == ["lo"]
        assert open_fds() == before + 2 + 2 * 2  # home fd and root socket; two namespaces
        assert session.index("s0", "lo") == 1  # s0 was closed: reopened
        assert [link.name for link in links.dump(session.sock("s0"))] == ["lo"]
        assert open_fds() == before + 2 + 2 * 2
    assert open_fds() == before
    assert owned(topology) == keyed(*(Netns(name) for name in NAMES))


@pytest.mark.parametrize(("soft", "expected"), [
    (1024, (1024 - FDS_SPARE) // 2),
    (20000, (20000 - FDS_SPARE) // 2),
    (FDS_SPARE, MIN_OPEN),
])  # fmt: skip
def test_the_fd_limit_decides_how_many_stay_open(monkeypatch: pytest.MonkeyPatch, soft: int,
                                                 expected: int) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _: (soft, resource.RLIM_INFINITY))
    assert max_open() == expected
