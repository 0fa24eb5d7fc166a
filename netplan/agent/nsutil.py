"""Named network namespaces (`ip netns` compatible) without forking.

setns(2) and unshare(2) act on the calling thread only, so the agent enters a namespace,
opens what it needs there (a netlink socket stays bound to the namespace it was created
in, a /proc/sys/net file to the one it was opened in) and returns, all in one thread.
Python 3.11 has no os.setns/os.unshare, hence ctypes. Every failure is an OSError
carrying the errno.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress

RUN_DIR = "/run/netns"
"""Where `ip netns` keeps its bind mounts (iproute2 spells it /var/run/netns)."""

CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SHARED = 1 << 20
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)


def _fail(what: str, path: str | None = None) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{what}: {os.strerror(code)}", path)


def _check(result: int, what: str, path: str | None = None) -> None:
    if result != 0:
        raise _fail(what, path)


def check_name(name: str) -> None:
    """Refuses a name that is not a single path component."""
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"{name!r} is not a valid namespace name")


def path_of(name: str) -> str:
    check_name(name)
    return f"{RUN_DIR}/{name}"


def current() -> int:
    """An fd of the calling thread's network namespace (close it when done)."""
    return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)


def open_named(name: str) -> int:
    return os.open(path_of(name), os.O_RDONLY | os.O_CLOEXEC)


def list_named() -> list[str]:
    try:
        return sorted(os.listdir(RUN_DIR))
    except FileNotFoundError:
        return []


def setns(fd: int) -> None:
    _check(_libc.setns(fd, CLONE_NEWNET), "setns")


@contextmanager
def inside(fd: int) -> Iterator[None]:
    """Run the block in the namespace `fd`; the thread always returns to where it was."""
    home = current()
    try:
        setns(fd)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(home)


def share_run_dir() -> None:
    """Make RUN_DIR a shared mount point, as iproute2 does, so that a namespace mounted
    here is visible to (and unmounted from) every mount namespace, e.g. `ip netns`.
    Call it once before creating namespaces: it walks every mount under RUN_DIR."""
    os.makedirs(RUN_DIR, mode=0o755, exist_ok=True)
    if _libc.mount(b"", RUN_DIR.encode(), b"none", MS_SHARED | MS_REC, None) == 0:
        return
    if ctypes.get_errno() != errno.EINVAL:  # EINVAL: not a mount point yet
        raise _fail("share", RUN_DIR)
    _check(
        _libc.mount(RUN_DIR.encode(), RUN_DIR.encode(), b"none", MS_BIND | MS_REC, None),
        "bind",
        RUN_DIR,
    )
    _check(_libc.mount(b"", RUN_DIR.encode(), b"none", MS_SHARED | MS_REC, None), "share", RUN_DIR)


@contextmanager
def create_named(name: str, marker: str = "") -> Iterator[int]:
    """Create namespace `name` and run the block inside it, yielding an fd of it.

    The thread enters the new namespace with unshare(CLONE_NEWNET), runs the block (which
    marks the namespace as its owner's), then bind-mounts it on RUN_DIR/name and always
    setns()es back. If the block fails the namespace is removed. The file under the mount
    holds `marker`: an agent killed before the mount leaves a file that says whose it is
    (stale_marker), which the same owner's next create reuses.
    """
    path = path_of(name)
    _claim(path, marker)
    home = current()
    fd = -1
    try:
        _check(_libc.unshare(CLONE_NEWNET), "unshare")
        try:
            fd = current()
            yield fd
            own = b"/proc/thread-self/ns/net"
            _check(_libc.mount(own, path.encode(), b"none", MS_BIND, None), "mount", path)
        finally:
            setns(home)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with suppress(OSError):  # the original error is the one to report
            remove_named(name)
        raise
    finally:
        os.close(home)


def _claim(path: str, marker: str) -> None:
    """Create the file a namespace is mounted on, holding `marker`; an existing one only
    if it is a stale file holding the same marker."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0)
    except FileExistsError:
        if marker and stale_marker(os.path.basename(path)) == marker:
            return
        raise
    try:
        os.write(fd, marker.encode())
    finally:
        os.close(fd)


def stale_marker(name: str) -> str | None:
    """The marker in RUN_DIR/name when that is a file with no namespace mounted on it (what
    an agent killed while creating the namespace leaves); None otherwise."""
    path = path_of(name)
    try:
        if os.stat(path).st_dev != os.stat(RUN_DIR).st_dev:
            return None  # a namespace is mounted on it (nsfs)
        with open(path, "rb") as text:
            return text.read(256).decode(errors="replace").strip() or None
    except OSError:
        return None


def remove_named(name: str) -> None:
    """Like `ip netns del`: detach the bind mount and remove the file. The namespace
    itself lives on while anything (a process, an open fd or socket) still holds it."""
    path = path_of(name)
    if _libc.umount2(path.encode(), MNT_DETACH) != 0 and ctypes.get_errno() != errno.EINVAL:
        raise _fail("umount", path)
    os.unlink(path)
