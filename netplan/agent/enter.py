"""Put the calling process into a container: its network namespace, a UTS namespace of
its own with the container's hostname, and a mount namespace of its own in which
/etc/netns/<ns>/* is bind-mounted over /etc/* and /sys shows the namespace's links, as
`ip netns exec` does, plus the container's volumes.

Runs only in a freshly forked, single-threaded child (setns into a mount namespace
refuses a process whose threads share their file-system context). Every failure is an
OSError whose message says which step failed.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from dataclasses import dataclass

from netplan.agent import nsutil

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SLAVE = 1 << 19
MNT_DETACH = 2
ETC_NETNS = "/etc/netns"

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    read_only: bool

    @classmethod
    def parse(cls, text: str) -> Mount:
        """`host_path:container_path:ro|rw`, as Process.volumes holds them."""
        source, target, mode = text.rsplit(":", 2)
        return cls(source, target, mode == "ro")


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _mount(source: str, target: str, kind: str | None, flags: int, what: str) -> None:
    _check(_libc.mount(source.encode(), target.encode(),
                       kind.encode() if kind else None, flags, None), what)


def own_namespaces(hostname: str) -> None:
    """New UTS and mount namespaces; the hostname set (empty: the host's kept); mounts
    made here stay here, while unmounts on the host still reach here (a slave, as `ip
    netns exec` makes it: a private copy would keep deleted namespaces' mounts alive)."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWUTS), "unshare")
    if hostname:
        name = hostname.encode()
        _check(_libc.sethostname(name, len(name)), f"sethostname {hostname}")
    _mount("", "/", None, MS_SLAVE | MS_REC, "make / a slave mount")


def netns_files(netns: str) -> None:
    """What `ip netns exec` does after entering: sysfs of the namespace on /sys, and
    each file of /etc/netns/<netns>/ over its namesake in /etc (one missing in /etc is
    skipped, as ip skips it)."""
    _libc.umount2(b"/sys", MNT_DETACH)  # fails when nothing is mounted there: fine
    flags = MS_RDONLY if os.statvfs("/").f_flag & os.ST_RDONLY else 0
    _mount(netns, "/sys", "sysfs", flags, "mount /sys")
    folder = os.path.join(ETC_NETNS, netns)
    try:
        entries = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        target = os.path.join("/etc", entry)
        if os.path.lexists(target):
            _mount(os.path.join(folder, entry), target, None, MS_BIND, f"bind {target}")


def volumes(mounts: Sequence[Mount]) -> None:
    """Bind each host path on its container path (read-only by a remount, which is how
    the kernel makes a bind mount read-only). The container shares the host's file
    system, so the container path must exist (the controller checks it first)."""
    for mount in mounts:
        what = f"mount volume {mount.source} on {mount.target}"
        _mount(mount.source, mount.target, None, MS_BIND | MS_REC, what)
        if mount.read_only:
            _mount("", mount.target, None, MS_REMOUNT | MS_BIND | MS_RDONLY, what + " read-only")


def container(netns_fd: int | None, netns: str, hostname: str,
              mounts: Sequence[Mount], workdir: str) -> None:
    """Everything above, in order: the network namespace (None: stay in the host's),
    then UTS and mounts, then the working directory."""
    if netns_fd is not None:
        nsutil.setns(netns_fd)
    own_namespaces(hostname)
    if netns:
        netns_files(netns)
    volumes(mounts)
    os.chdir(workdir)


def join(pid: int) -> None:
    """Enter the network, UTS and mount namespaces of a running process (its root and
    working directory become that namespace's root)."""
    kinds = (("net", 0x40000000), ("uts", CLONE_NEWUTS), ("mnt", CLONE_NEWNS))
    fds = [(os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC), flag)
           for name, flag in kinds]
    try:
        for fd, flag in fds:
            _check(_libc.setns(fd, flag), "setns")
    finally:
        for fd, _ in fds:
            os.close(fd)
