"""Hosts files of our namespaces: `/etc/netns/<netns>/hosts`, where `ip netns exec`
looks for files to bind-mount over /etc/ (iproute2's bind_etc).

The file's first line is hosts_marker(topology); the rest is the resource's `content`,
read back as its digest.
A new file is written to a temporary name and renamed into place, or, when this call
already wrote a file with the same text, hard-linked to that file (the containers on the
same networks have one text: netplan/agent/hosts_sharing.py). An existing one is
rewritten in place, as Docker rewrites a container's /etc/hosts: a process that entered
the namespace with `ip netns exec` holds a bind mount of the file's inode, and keeps
seeing that inode, not a file renamed over it; one rewrite of a linked file reaches
every namespace linked to it. Only the `hosts` file is ever written or removed: anything
else someone keeps in /etc/netns/<netns>/ stays.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress

from netplan.agent import fds, nsutil
from netplan.agent.hosts_sharing import Inode, inode_of
from netplan.agent.resources import HostsFile, bytes_digest, netns_marker, parse_marker
from netplan.agent.session import Session

ETC_NETNS = "/etc/netns"
"""iproute2's NETNS_ETC_DIR."""
FILE = "hosts"


def hosts_marker(topology: str) -> str:
    """First line of every hosts file a topology writes."""
    return f"# {netns_marker(topology)} -- managed by netplan, do not edit (apply rewrites it)"


def path_of(netns: str) -> str:
    nsutil.check_name(netns)
    return f"{ETC_NETNS}/{netns}/{FILE}"


def read(topology: str, content: bool = False) -> list[tuple[str, HostsFile | bytes]]:
    """Every hosts file under /etc/netns, by namespace: a file with this topology's
    marker as its HostsFile (digested here; with `content`, its text too: `netplan show`
    reads the aliases back from it), any other as its bytes (whose it is depends on the
    namespaces the topology owns: classify). Needs no namespace to be observed first: an
    observation reads them while its other processes look into namespaces. A file linked
    to several namespaces is read and digested once."""
    marker = hosts_marker(topology).encode() + b"\n"
    digests: dict[int, tuple[str, str]] = {}
    found: list[tuple[str, HostsFile | bytes]] = []
    for netns, data in _files():
        if not data.startswith(marker):
            found.append((netns, data))
            continue
        known = digests.get(id(data))
        if known is None:
            body = memoryview(data)[len(marker):]
            known = digests[id(data)] = (bytes_digest(body), _text(body) if content else "")
        digest, text = known
        found.append((netns, HostsFile(netns, text, digest)))
    return found


def classify(
    topology: str, files: list[tuple[str, HostsFile | bytes]], owned: Iterable[str],
    content: bool = False,
) -> tuple[list[HostsFile], dict[str, str]]:
    """Of the files read(): those of the namespaces this topology owns, and the files it
    wrote for namespaces that are gone, by digest (with `content`, their text too); plus
    `foreign`: every other hosts file under /etc/netns, by key, with a phrase saying
    whose it is."""
    ours = set(owned)
    found: list[HostsFile] = []
    foreign: dict[str, str] = {}
    for netns, data in files:
        if isinstance(data, HostsFile):
            found.append(data)
            continue
        owner = _owner(_first_line(data))
        if netns in ours or owner == topology:
            found.append(HostsFile(netns, _text(data) if content else "", bytes_digest(data)))
        elif owner is None:
            foreign[HostsFile(netns).key] = "is not managed by netplan"
        else:
            foreign[HostsFile(netns).key] = f"belongs to netplan topology '{owner}'"
    return found, foreign


def _files() -> Iterator[tuple[str, bytes]]:
    """The hosts file of every directory in /etc/netns that has one, by directory name,
    sorted; each opened relative to /etc/netns (at N=1000, a third of the time went to
    making and checking paths). The names of one file give the same bytes object."""
    try:
        top = os.open(ETC_NETNS, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        with os.scandir(top) as entries:
            names = sorted(entry.name for entry in entries if entry.is_dir(follow_symlinks=False))
        seen: dict[Inode, bytes] = {}
        for netns in names:
            data = _read(f"{netns}/{FILE}", top, seen)
            if data is not None:
                yield netns, data
    finally:
        os.close(top)


def _read(path: str, dir_fd: int | None = None,
          seen: dict[Inode, bytes] | None = None) -> bytes | None:
    """The file's bytes; None when there is none. A symbolic link is not followed: it
    reads as a line no rendering makes (drift in our namespaces, foreign elsewhere).
    With `seen`, a file already read under another name is not read again, nor opened:
    one stat (at N=1,000 names of one file, ~5 ms less per read of them all)."""
    if seen is not None:
        try:
            stat = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        data = seen.get((stat.st_dev, stat.st_ino))
        if data is not None:
            return data
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            return f"# a symbolic link to {os.readlink(path, dir_fd=dir_fd)}\n".encode()
        raise
    try:
        if seen is None:
            return fds.read_to_end(fd)
        stat = os.fstat(fd)
        inode = (stat.st_dev, stat.st_ino)
        data = seen.get(inode)
        if data is None:
            data = seen[inode] = fds.read_to_end(fd)
        return data
    finally:
        os.close(fd)


def _body(data: bytes) -> bytes:
    """A file's bytes after its marker line (all of them if it has none)."""
    first, _, rest = data.partition(b"\n")
    return rest if _owner(first.decode("utf-8", "replace")) is not None else data


def _text(data: bytes | memoryview) -> str:
    """A file's bytes as text; bytes no rendering makes read as U+FFFD, not an error."""
    return bytes(data).decode("utf-8", "replace")


def _first_line(data: bytes) -> str:
    end = data.find(b"\n")
    return data[: end if end >= 0 else len(data)].decode("utf-8", "replace")


def _owner(first_line: str) -> str | None:
    """The topology named by a marker line, None for any other line."""
    word = first_line.removeprefix("# ").split(" ", 1)[0]
    marker = parse_marker(word) if first_line.startswith("# ") else None
    return marker[0] if marker else None


def render(topology: str, hosts: HostsFile) -> bytes:
    return f"{hosts_marker(topology)}\n{hosts.content}".encode()


TEMPORARY_SUFFIX = ".netplan"


def temporary_prefix(topology: str) -> str:
    """How the temporary files create() writes for `topology` begin: `.TOPOLOGY:`, a
    character no topology or namespace name holds after the name."""
    return f".{topology}:"


def create(session: Session, hosts: HostsFile) -> None:
    """Write the file under a temporary name in /etc/netns (not in the namespace's
    directory, whose every file `ip netns exec` mounts) and rename it into place; or,
    when this call wrote a file with the same text, link that file under the temporary
    name instead. The name says whose it is (temporary_prefix), for remove_temporaries."""
    path = path_of(hosts.netns)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    source = session.hosts.source(hosts.digest) if hosts.shared else None
    temporary = os.path.join(
        ETC_NETNS, f"{temporary_prefix(session.topology)}{hosts.netns}.{secrets.token_hex(4)}"
                   f"{TEMPORARY_SUFFIX}")
    try:
        if source is not None:
            os.link(source, temporary)
        else:
            _write_new(temporary, render(session.topology, hosts))
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if source is None and hosts.shared:
        stat = os.lstat(path)
        session.hosts.wrote((stat.st_dev, stat.st_ino), hosts.digest, path)


def _write_new(path: str, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        os.fchmod(fd, 0o644)  # whatever the umask: every user in the namespace reads it
        _write_all(fd, content)
    finally:
        os.close(fd)


def remove_temporaries(topology: str) -> list[str]:
    """Remove the temporary files an agent killed between writing a hosts file and
    renaming it into place left in /etc/netns: the topology's by their name, whatever
    they hold (empty, if it was killed before writing). Called after a destroy, under
    the host lock, where no agent of this host is writing any. The names removed, sorted."""
    prefix = temporary_prefix(topology)
    removed = []
    try:
        entries = list(os.scandir(ETC_NETNS))
    except FileNotFoundError:
        return []
    for entry in entries:
        if (entry.name.startswith(prefix) and entry.name.endswith(TEMPORARY_SUFFIX)
                and entry.is_file(follow_symlinks=False)):
            with suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(entry.name)
    return sorted(removed)


def update(session: Session, hosts: HostsFile, fields: tuple[str, ...]) -> None:
    """Rewrite the file in place, keeping its inode (see the module's docstring): the
    new bytes over the old, then cut to length, so a reader never finds it empty. What
    it held is kept first (`_keep`), read through the same open. A file linked to other
    namespaces is rewritten once, when none of them is to keep what it holds
    (HostsSharing.may_rewrite); otherwise, when this call already rewrote it to another
    text, or when it is not to be shared, this namespace gets a file of its own. A
    rewrite in place of a file with other names notes them all for the journal's undo
    (Session.shared_rewrites): their own steps may never run."""
    sharing = session.hosts
    if hosts.shared and sharing.written:
        # where most of a shared file's names end: known since the file's rewrite
        # counted its names (HostsSharing.names), else one call
        linked = sharing.names.get(hosts.netns) or inode_of(path_of(hosts.netns))
        if linked is not None and sharing.written.get(linked) == hosts.digest:
            _keep(session, hosts.netns, lambda: sharing.before.get(linked), linked)
            return  # rewritten under another name
    path = path_of(hosts.netns)
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        if error.errno not in (errno.ENOENT, errno.ELOOP):
            raise
        _keep(session, hosts.netns, lambda: _read(path))  # a symbolic link reads as a line
        create(session, hosts)  # removed since it was observed, or a symbolic link
        return
    try:
        stat = os.fstat(fd)
        inode = (stat.st_dev, stat.st_ino)
        held: list[bytes] = []

        def read_held() -> bytes:
            held.append(fds.read_to_end(fd))
            return held[0]

        rewritten = inode in sharing.written  # under another name, to another text
        _keep(session, hosts.netns,
              (lambda: sharing.before.get(inode)) if rewritten else read_held, inode)
        if stat.st_nlink > 1 and (rewritten or not (
                hosts.shared and sharing.may_rewrite(inode, stat.st_nlink, hosts.digest, path_of))):
            create(session, hosts)
            return
        if held:
            sharing.before[inode] = held[0]
        content = render(session.topology, hosts)
        _write_all(fd, content)
        os.ftruncate(fd, len(content))
        if hosts.shared:
            sharing.wrote(inode, hosts.digest, path)
        if stat.st_nlink > 1 and session.shared_rewrites is not None:
            session.shared_rewrites[hosts.netns] = sharing.linked[inode]
    finally:
        os.close(fd)


def _keep(session: Session, netns: str, read: Callable[[], bytes | None],
          inode: Inode | None = None) -> None:
    """Before a step rewrites or removes a hosts file, what it held, for the journal's
    undo (`session.replaced_hosts`; None when nothing will be undone: nothing is read).
    The observed state has the file's digest only; the first bytes seen are kept. The
    names of one file (`inode`, its bytes before this call) keep one copy of its lines:
    at N=1,000, 1,000 copies of a 35 kB file cost ~10 ms and 35 MB."""
    kept = session.replaced_hosts
    if kept is None or netns in kept:
        return
    bodies = session.hosts.bodies
    body = bodies.get(inode) if inode is not None else None
    if body is None:
        data = read()
        if data is None:
            return
        body = _body(data)
        if inode is not None:
            bodies[inode] = body
    kept[netns] = body


def _held_before(session: Session, path: str) -> bytes | None:
    """The file's bytes before this call: what the call's rewrite under another name of
    the same file read, if there was one; else the file as it is, read once however
    many names it has (a destroy removes them one by one)."""
    inode = inode_of(path)
    if inode is None:
        return None
    sharing = session.hosts
    if inode in sharing.written:
        return sharing.before.get(inode)
    return _read(path, seen=sharing.seen)


def _write_all(fd: int, content: bytes) -> None:
    """`content` over the file's first bytes, through the fd itself (a buffered file
    object around it cost ~40% more: 1,000 files of 1,000 lines, ~25 ms against ~18)."""
    done = 0
    while done < len(content):
        done += os.pwrite(fd, content[done:], done)


def delete(session: Session, hosts: HostsFile) -> None:
    remove(session, hosts.netns)


def remove(session: Session, netns: str) -> None:
    """Remove the namespace's hosts file (what it held kept first, `_keep`), then its
    directory if nothing else is in it (called by the namespace's delete as well)."""
    path = path_of(netns)
    _keep(session, netns, lambda: _held_before(session, path))
    with suppress(FileNotFoundError):
        os.unlink(path)
    try:
        os.rmdir(os.path.dirname(path))
    except OSError as error:
        if error.errno not in (errno.ENOENT, errno.ENOTEMPTY):
            raise

