"""Kernel handles for one observe or execute call: one netlink socket per namespace.

A socket into a named namespace is made by entering it (setns), creating the socket and
returning; it is then reused for the rest of the call. Nothing here forks.
"""

from __future__ import annotations

import os
import resource
from collections import OrderedDict
from types import TracebackType
from typing import TYPE_CHECKING

from netplan.agent import inside, links, nsutil
from netplan.agent.hosts_sharing import HostsSharing
from netplan.agent.resources import ROOT
from netplan.agent.rtnl import Rtnl

if TYPE_CHECKING:
    from netplan.agent.process import Started

FDS_SPARE = 256
"""File descriptors left to everything else (SSH connections, files, pipes)."""
MIN_OPEN = 16


def max_open() -> int:
    """How many namespaces' handles (2 fds each) stay open: as many as the process's fd
    limit allows, FDS_SPARE aside. Steps visit the namespaces once per kind (every
    namespace, then every veth, every address...), so with fewer open than namespaces
    every visit reopens one (setns twice and a socket, ~0.1 ms): ~0.15 s of an apply of
    500 containers with 256 open. The limit is not raised: processes the agent starts
    would inherit it (`ulimit -n` is the knob)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(MIN_OPEN, (soft - FDS_SPARE) // 2)


class Session:
    """The sockets, namespace fds and remembered link indexes of one call, plus the
    topology whose markers it reads and writes."""

    def __init__(self, topology: str, open_at_most: int | None = None,
                 replaced_hosts: dict[str, bytes] | None = None,
                 shared_rewrites: dict[str, list[str]] | None = None) -> None:
        self.topology = topology
        self.open_at_most = max_open() if open_at_most is None else open_at_most
        """Namespaces whose handles stay open; the least recently used are closed."""
        self.home = nsutil.current()
        """fd of the namespace the agent runs in: the host's root namespace."""
        try:
            self.root = Rtnl()
        except BaseException:
            os.close(self.home)
            raise
        self._namespaces: OrderedDict[str, tuple[int, Rtnl]] = OrderedDict()
        self._indexes: dict[tuple[str, str], int] = {}
        self.run_dir_shared = False
        """Whether nsutil.share_run_dir() has run during this call."""
        self.dying: set[int] = set()
        """Root-namespace indexes of the host veth ends of deleted namespaces, which the
        kernel removes when it gets round to destroying them (see netns.settle)."""
        self.host_veths: dict[int, set[int]] | None = None
        """Root-namespace veths by the id their peer's namespace has in the root
        namespace, as the first namespace delete of this call found them (netns.delete)."""
        self.started: list[Started] = []
        """Processes started by this call, until process.confirm has heard how they did."""
        self.replaced_hosts = replaced_hosts
        """What a hosts file held (after its marker line) before a step of this call
        rewrote or removed it, by namespace: a Journal's, for its undo; None when no
        journal will undo this call's steps."""
        self.shared_rewrites = shared_rewrites
        """Every name a hosts file had when a step of this call rewrote it in place, by
        the namespace of that step: a Journal's (Journal.shared_rewrites); None when no
        journal will undo this call's steps."""
        self.hosts = HostsSharing()
        """The hosts files this call writes, and which of them may be one file."""
        self.census = inside.Census()
        """Which namespaces processes are in, walked once for this call's deletes."""

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for name in list(self._namespaces):
            self._close(name)
        self.root.close()
        os.close(self.home)

    def fd(self, netns: str) -> int:
        """An fd of a named namespace (FileNotFoundError if there is none)."""
        return self._open(netns)[0]

    def sock(self, netns: str) -> Rtnl:
        return self.root if netns == ROOT else self._open(netns)[1]

    def _open(self, netns: str) -> tuple[int, Rtnl]:
        if netns in self._namespaces:
            self._namespaces.move_to_end(netns)
            return self._namespaces[netns]
        fd = nsutil.open_named(netns)
        try:
            with nsutil.inside(fd):
                sock = Rtnl()
        except BaseException:
            os.close(fd)
            raise
        self.adopt(netns, fd, sock)
        return fd, sock

    def adopt(self, netns: str, fd: int, sock: Rtnl) -> None:
        """Keep the handles of a namespace (e.g. one this call has just created)."""
        self._namespaces[netns] = (fd, sock)
        while len(self._namespaces) > self.open_at_most:
            self._close(next(iter(self._namespaces)))

    def forget(self, netns: str) -> None:
        """Close the handles of a namespace (they keep it alive, even once unmounted)
        and forget the indexes of its links."""
        self._close(netns)
        self._indexes = {k: v for k, v in self._indexes.items() if k[0] != netns}

    def _close(self, netns: str) -> None:
        handles = self._namespaces.pop(netns, None)
        if handles is not None:
            handles[1].close()
            os.close(handles[0])

    def index(self, netns: str, name: str) -> int:
        """A link's index, remembered until something is deleted (indexes are reused)."""
        key = (netns, name)
        if key not in self._indexes:
            self._indexes[key] = links.get(self.sock(netns), name).index
        return self._indexes[key]

    def deleted(self) -> None:
        """Forget remembered indexes after a delete: a deleted link's name may come back."""
        self._indexes.clear()
