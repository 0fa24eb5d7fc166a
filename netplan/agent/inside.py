"""The processes inside a container, found so that stopping it ends all of them, as Docker
ends every process of a container, not only the one it started.

A process is inside when one of its namespaces is one of those given: the mount namespace
the agent made for the container's process (what that process started, also what it
detached with setsid, and a `netplan exec` joined to it), or the container's network
namespace (as `ip netns pids` finds them: also an `ip netns exec` or an exec while no
process ran). The caller holds the namespaces open while it looks, so no other namespace
can take their inode numbers meanwhile, and never the agent's own (a container's process
that entered the host's mount namespace must not make every process of the host its
own). Each process found is held by a pidfd: a signal
never reaches another process that got its PID.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import os
import select
import signal
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress

Namespace = tuple[str, int, int]
"""A namespace as /proc shows it: its kind (`net`, `mnt`), device and inode."""


@contextmanager
def held(files: Sequence[tuple[str, str]]) -> Iterator[frozenset[Namespace]]:
    """Open each (kind, namespace file) that still exists; the namespaces, held until
    the block ends, less those this process is in."""
    opened: list[tuple[str, int]] = []
    try:
        for kind, path in files:
            with suppress(FileNotFoundError, ProcessLookupError):
                opened.append((kind, os.open(path, os.O_RDONLY | os.O_CLOEXEC)))
        namespaces = {(kind, *_identity(os.fstat(fd))) for kind, fd in opened}
        yield frozenset(namespaces - _namespaces_of(os.getpid(), {"net", "mnt"}))
    finally:
        for _, fd in opened:
            os.close(fd)


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


def _namespaces_of(pid: int, kinds: Iterable[str]) -> set[Namespace]:
    found = set()
    for kind in kinds:
        with suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            found.add((kind, *_identity(os.stat(f"/proc/{pid}/ns/{kind}"))))
    return found


def processes(namespaces: frozenset[Namespace]) -> dict[int, int]:
    """pidfds of the processes (this one aside) in any of `namespaces`, by PID. Each
    candidate is looked at again once held: if it has not ended meanwhile, the PID was
    not reused and what /proc said was about it. The caller closes them (`release`)."""
    kinds = {kind for kind, _, _ in namespaces}
    found: dict[int, int] = {}
    if not namespaces:
        return found
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        if not _namespaces_of(pid, kinds) & namespaces:
            continue
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        if _namespaces_of(pid, kinds) & namespaces and _send(pidfd, 0):
            found[pid] = pidfd
        else:
            os.close(pidfd)
    return found


def _send(pidfd: int, sig: int) -> bool:
    """Signal a held process (0: only ask whether it runs); False once it has ended."""
    try:
        signal.pidfd_send_signal(pidfd, sig)
    except ProcessLookupError:
        return False
    return True


def send(pidfds: dict[int, int], sig: signal.Signals) -> None:
    for pidfd in pidfds.values():
        _send(pidfd, sig)


def wait_ended(pidfds: dict[int, int], timeout: float) -> bool:
    """Wait up to `timeout` seconds for every held process to end (a pidfd turns
    readable when its process exits); whether they all did."""
    waiting = dict(pidfds)
    deadline = time.monotonic() + timeout
    while waiting:
        poller = select.poll()
        for pidfd in waiting.values():
            poller.register(pidfd, select.POLLIN)
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready = {fd for fd, _ in poller.poll(left * 1000)}
        waiting = {pid: fd for pid, fd in waiting.items() if fd not in ready}
    return True


def release(pidfds: dict[int, int]) -> None:
    for pidfd in pidfds.values():
        os.close(pidfd)
    pidfds.clear()


class Census:
    """The network namespaces some process is in, from one walk of /proc made when first
    asked: deleting N namespaces looks at every process once, not N times (~0.6 ms a
    walk with 75 processes on the machine). A process that enters a namespace after the
    walk, while the same call deletes it, is not seen."""

    def __init__(self) -> None:
        self._occupied: set[tuple[int, int]] | None = None

    def occupied(self, path: str) -> bool:
        """Whether a process (other than this one) was in the namespace at `path`."""
        if self._occupied is None:
            self._occupied = {
                namespace[1:] for entry in os.listdir("/proc")
                if entry.isdigit() and int(entry) != os.getpid()
                for namespace in _namespaces_of(int(entry), ("net",))}
        try:
            return _identity(os.stat(path)) in self._occupied
        except FileNotFoundError:
            return False
