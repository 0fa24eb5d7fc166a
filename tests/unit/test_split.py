"""Work split over forked children (netplan/agent/split.py): results in order, a child's
exception raised in the parent as it was, a child that dies named, and no child left;
the same of one piece of work started in a child while this process does another."""

from __future__ import annotations

import errno
import os
import select
import signal
import time
from collections.abc import Sequence

import pytest

from netplan.agent import split
from netplan.agent.rtnl import NetlinkError


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _pid_and_items(items: Sequence[int]) -> tuple[int, list[int]]:
    return os.getpid(), list(items)


@pytest.mark.parametrize(("items", "parts", "expected"), [
    (list(range(10)), 1, [list(range(10))]),
    (list(range(10)), 2, [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]),
    (list(range(10)), 3, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]),
    (list(range(3)), 5, [[0], [1], [2]]),
    ([], 2, [[]]),
])  # fmt: skip
def test_contiguous_parts_in_order(items: list[int], parts: int,
                                   expected: list[list[int]]) -> None:
    results = split.in_parts(items, _pid_and_items, parts)
    assert [chunk for _, chunk in results] == expected
    pids = [pid for pid, _ in results]
    assert pids[0] == os.getpid()  # the first part is this process's own
    assert len(set(pids)) == len(pids)  # every other one a child's
    assert _no_children_left()


@pytest.mark.parametrize(("items", "per_part", "most", "expected"), [
    (0, 100, 2, 1), (199, 100, 2, 1), (200, 100, 2, 2), (1000, 100, 2, 2),
    (1000, 100, 1, 1), (350, 100, 8, 3),
])  # fmt: skip
def test_part_count(items: int, per_part: int, most: int, expected: int) -> None:
    assert split.part_count(items, per_part, most) == expected


def _refuse_second(items: Sequence[str]) -> list[str]:
    if "b" in items:
        raise NetlinkError(errno.EPERM, "not in this namespace")
    return list(items)


def test_a_childs_exception_is_raised_as_it_was() -> None:
    with pytest.raises(NetlinkError) as raised:
        split.in_parts(["a", "b"], _refuse_second, 2)
    assert (raised.value.errno, raised.value.extack) == (errno.EPERM, "not in this namespace")
    assert _no_children_left()


class _Unpicklable(Exception):
    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("cannot pickle")


def _raise_unpicklable(items: Sequence[str]) -> list[str]:
    if "b" in items:
        raise _Unpicklable("a lock in it")
    return list(items)


def test_an_unpicklable_exception_comes_back_as_its_text() -> None:
    with pytest.raises(OSError, match="_Unpicklable: a lock in it"):
        split.in_parts(["a", "b"], _raise_unpicklable, 2)
    assert _no_children_left()


def _die_in_child(items: Sequence[str]) -> list[str]:
    if "b" in items:
        os.kill(os.getpid(), signal.SIGKILL)
    return list(items)


def test_a_child_that_dies_is_named() -> None:
    with pytest.raises(split.WorkerDied, match="ended without an answer"):
        split.in_parts(["a", "b"], _die_in_child, 2)
    assert _no_children_left()


def _fail_here_sleep_there(items: Sequence[str]) -> list[str]:
    if "a" in items:
        raise ValueError("this process's own part failed")
    time.sleep(60)
    return list(items)


def test_the_children_are_killed_when_the_parents_part_fails() -> None:
    started = time.monotonic()
    with pytest.raises(ValueError, match="own part failed"):
        split.in_parts(["a", "b", "c"], _fail_here_sleep_there, 3)
    assert time.monotonic() - started < 30
    assert _no_children_left()


@pytest.mark.parametrize(("items", "parts", "beside_items", "expected"), [
    (10, 2, 4, [[0, 1, 2], [3, 4, 5, 6, 7, 8, 9]]),  # 3 here + 4 beside = 7 in the child
    (10, 3, 3, [[0, 1], [2, 3, 4, 5, 6], [7, 8, 9]]),
    (10, 2, 20, [[], list(range(10))]),  # beside is worth more than a share: none here
    (10, 1, 4, [list(range(10))]),
    (10, 2, 0, [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]),
])  # fmt: skip
def test_work_beside_the_parts_shortens_this_process_part(
        items: int, parts: int, beside_items: int, expected: list[list[int]]) -> None:
    results, other = split.beside_parts(list(range(items)), _pid_and_items, parts, os.getpid,
                                        beside_items)  # fmt: skip
    assert [chunk for _, chunk in results] == expected
    assert other == results[0][0] == os.getpid()
    assert _no_children_left()


def test_a_large_result_comes_through_the_pipe() -> None:
    words = [f"line {n} " * 20 for n in range(4000)]  # ~600 KB: many pipe buffers
    assert split.in_parts(words, list, 2) == [words[:2000], words[2000:]]


def test_a_part_whose_fork_fails_is_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_memory() -> int:
        raise OSError(errno.ENOMEM, "Cannot allocate memory")

    monkeypatch.setattr(os, "fork", no_memory)
    results = split.in_parts(list(range(6)), _pid_and_items, 3)
    assert results == [(os.getpid(), [0, 1]), (os.getpid(), [2, 3]), (os.getpid(), [4, 5])]


class _TwoArguments(Exception):
    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def _raise_two_arguments(items: Sequence[str]) -> list[str]:
    if "b" in items:
        raise _TwoArguments("c7", "gone meanwhile")
    return list(items)


def test_an_exception_that_does_not_unpickle_comes_back_as_its_text() -> None:
    with pytest.raises(OSError, match="_TwoArguments: c7: gone meanwhile"):
        split.in_parts(["a", "b"], _raise_two_arguments, 2)
    assert _no_children_left()


def test_started_work_runs_in_a_child_while_this_process_goes_on() -> None:
    """The child's work waits for what this process writes after started() returned:
    done here, at once, it would find nothing to read."""
    read, write = os.pipe()
    try:
        waiter = split.started(lambda: (os.getpid(), _read_within(read, 10.0)))
        os.write(write, b"meanwhile")
        pid, seen = waiter()
    finally:
        os.close(read)
        os.close(write)
    assert pid != os.getpid() and seen == b"meanwhile"
    assert _no_children_left()


def _read_within(fd: int, seconds: float) -> bytes:
    ready, _, _ = select.select([fd], [], [], seconds)
    return os.read(fd, 100) if ready else b""


def _refuse() -> int:
    raise NetlinkError(errno.EPERM, "not in this namespace")


def test_started_works_exception_is_raised_by_the_waiter() -> None:
    waiter = split.started(_refuse)  # the work fails in the child, not here
    with pytest.raises(NetlinkError) as raised:
        waiter()
    assert (raised.value.errno, raised.value.extack) == (errno.EPERM, "not in this namespace")
    assert _no_children_left()


def test_a_started_child_that_dies_is_named() -> None:
    waiter = split.started(lambda: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(split.WorkerDied, match="ended without an answer"):
        waiter()
    assert _no_children_left()


def test_started_work_whose_fork_fails_is_done_here_when_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_processes() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_processes)
    runs: list[int] = []

    def work() -> int:
        runs.append(os.getpid())
        return os.getpid()

    waiter = split.started(work)
    assert runs == []  # not yet: this process does its other work first
    assert waiter() == os.getpid() and runs == [os.getpid()]
    with pytest.raises(NetlinkError) as raised:
        split.started(_refuse)()
    assert raised.value.extack == "not in this namespace"


def test_a_started_child_knows_its_parent_works_beside_it() -> None:
    """The local observer splits its namespaces later in such a child (observe.py)."""
    assert split.started(split.beside_parent)() is True
    assert split.beside_parent() is False
    assert _no_children_left()
