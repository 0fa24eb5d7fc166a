"""Which namespaces' hosts files may be one file: what an execute call knows about the
hosts files it writes.

The containers on the same networks have the same hosts file (netplan/etchosts.py), so
the agent writes that text once and hard-links the other namespaces' `hosts` names to it:
at N=1,000 on one network, one file of 1,000 lines instead of 1,000 of them (35 MB). A
file is rewritten in place (netplan/agent/hostsfile.py), so one write reaches every
namespace linked to it, processes that bind-mounted it included. That is right only when
none of the file's names keeps its text after this call: `may_rewrite` says when.
A file marked not to be shared (HostsFile.shared: a process runs in its namespace) is
never linked, and is given a file of its own if it was.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable

Inode = tuple[int, int]
"""(st_dev, st_ino)"""


class HostsSharing:
    """The hosts files one execute call writes, by namespace, and the files it wrote."""

    def __init__(self) -> None:
        self._wanted: dict[str, list[str]] = {}
        """Namespaces whose file this call creates or rewrites, by the digest it will hold."""
        self._dropped: set[str] = set()
        """Namespaces whose file this call removes (with their namespace, or alone)."""
        self.written: dict[Inode, str] = {}
        """The digest each file this call wrote (or rewrote) holds now."""
        self.before: dict[Inode, bytes] = {}
        """What a file this call rewrote held before, as its rewrite read it for the
        journal (nothing when no journal keeps it)."""
        self.bodies: dict[Inode, bytes] = {}
        """The lines (after the marker) a file held before this call, as the journal keeps
        them: one copy for all of the file's names."""
        self.seen: dict[Inode, bytes] = {}
        """Files read for the journal before they were removed, under any of their names."""
        self.sources: dict[str, tuple[str, Inode]] = {}
        """A file this call wrote, by the digest it holds: the one to link to."""
        self._kept: set[Inode] = set()
        """Files a name keeps as they are: never rewritten in place by this call."""
        self.names: dict[str, Inode] = {}
        """The file each namespace's `hosts` name is, for the names of a file may_rewrite
        counted and let be rewritten (those no step removes): found then, so the name's
        own step need not look again (nothing but that step changes the name during the
        call). At N=1,000 names of one file, ~3 ms less per rewrite of them all."""
        self.linked: dict[Inode, list[str]] = {}
        """Every name of a file may_rewrite let be rewritten (removed ones included), as it
        counted them: whose file a rewrite in place changes, for its undo (Journal)."""

    def expect(self, wanted: Iterable[tuple[str, str]], dropped: Iterable[str]) -> None:
        """The (namespace, digest) of every hosts file the call's steps create or rewrite,
        and the namespaces whose file they remove."""
        by_digest: dict[str, list[str]] = defaultdict(list)
        for netns, digest in wanted:
            by_digest[digest].append(netns)
        self._wanted = dict(by_digest)
        self._dropped = set(dropped)

    def may_rewrite(self, inode: Inode, links: int, digest: str,
                    path_of: Callable[[str], str]) -> bool:
        """Whether a file with `links` names may be rewritten in place to hold `digest`:
        none of its names keeps what it holds. Every one is a namespace whose file this
        call makes hold `digest`, removes, or makes hold another text (which then gets a
        file of its own: the file was rewritten). A name that is none of these (another
        namespace's file that stays as it is, someone's hard link) keeps the file, and
        every namespace that changes gets a file of its own; that answer is kept, so a
        file of N names is counted once, not N times."""
        if inode in self._kept:
            return False
        same = self._linked(inode, [*self._wanted.get(digest, ()), *self._dropped], path_of)
        if len(same) != links:
            others = [name for wanted, names in self._wanted.items() if wanted != digest
                      for name in names]
            same += self._linked(inode, others, path_of)
            if len(same) != links:
                self._kept.add(inode)
                return False
        self.names.update((name, inode) for name in same if name not in self._dropped)
        self.linked[inode] = same
        return True

    @staticmethod
    def _linked(inode: Inode, names: Iterable[str], path_of: Callable[[str], str]) -> list[str]:
        """Those of `names` whose file is `inode`."""
        return [name for name in names if inode_of(path_of(name)) == inode]

    def wrote(self, inode: Inode, digest: str, path: str) -> None:
        self.written[inode] = digest
        self.sources[digest] = (path, inode)

    def source(self, digest: str) -> str | None:
        """A file this call wrote that still holds `digest`, to link to; None if none."""
        found = self.sources.get(digest)
        if found is None:
            return None
        path, inode = found
        if self.written.get(inode) != digest or inode_of(path) != inode:
            return None
        return path


def inode_of(path: str) -> Inode | None:
    """The file at `path` (a symbolic link itself, not followed); None if there is none."""
    try:
        stat = os.lstat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)
