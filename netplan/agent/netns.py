"""Named network namespaces. Ours have `lo` carrying netns_marker(topology) as its alias."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Sequence
from functools import partial

from netplan.agent import hostsfile, links, nsutil, process, split, veth
from netplan.agent.links import Link
from netplan.agent.resources import Netns, netns_marker, parse_marker
from netplan.agent.rtnl import Rtnl
from netplan.agent.session import Session

IPV6_DEFAULTS = "/proc/sys/net/ipv6/conf/default/addr_gen_mode"
NAMESPACES_PER_PROCESS = 100
"""Namespaces are made in one process per this many, up to one per CPU: ~0.6 ms each,
against a few ms for a fork."""
SETTLE_SECONDS = 5.0
"""How long to let the kernel destroy deleted namespaces before deleting what is left
of them (a process still inside keeps a namespace alive)."""


Made = tuple[list[Netns], tuple[Netns, OSError] | None]
"""The namespaces made, and the first that could not be, with why."""


def observe(name: str, inside: list[Link]) -> tuple[str | None, Netns]:
    """The topology named by the marker on the namespace's `lo` (None if unmarked),
    given the links `inside` it."""
    lo = next((link for link in inside if link.index == links.LOOPBACK), None)
    marker = parse_marker(lo.alias) if lo else None
    return (marker[0] if marker else None), Netns(name, lo_up=lo is not None and lo.up)


def create(session: Session, ns: Netns) -> None:
    _share_run_dir(session)
    fd, sock = _make(session.topology, ns)
    session.adopt(ns.name, fd, sock)


def create_in_parts(session: Session, namespaces: Sequence[Netns]) -> Made:
    """Make the namespaces, one process per NAMESPACES_PER_PROCESS of them, up to one
    per CPU (netplan/agent/split.py): the kernel makes namespaces side by side (500 of
    them: 0.37 s from one process, 0.21 s from two; bench/make_in_parts.py), unlike
    links, which it makes one at a time under its rtnl lock. Each part stops at its
    first failure and the others go on: which namespaces were made, and the first
    failure in their order. The session keeps the handles of the namespaces made in this
    process, and opens the others' when a step needs them."""
    _share_run_dir(session)
    parts = split.part_count(len(namespaces), NAMESPACES_PER_PROCESS, split.cpus())
    work = partial(_make_part, session, os.getpid())
    try:
        results = split.in_parts(namespaces, work, parts)
    except OSError as error:  # a part's process died, or its error did not unpickle
        return _found_after(namespaces, error)
    made: list[Netns] = []
    failed: tuple[Netns, OSError] | None = None
    for part_made, part_failed in results:
        made += part_made
        failed = failed or part_failed
    return made, failed


def _found_after(namespaces: Sequence[Netns], died: OSError) -> Made:
    """After a part's process could not say what it made: the namespaces that exist
    now were made (the plan makes only those that did not exist), and the first missing
    one failed (the first one if none is missing)."""
    present = set(nsutil.list_named())
    made = [ns for ns in namespaces if ns.name in present]
    missing = next((ns for ns in namespaces if ns.name not in present), namespaces[0])
    return made, (missing, died)


def _make_part(session: Session, home: int, namespaces: Sequence[Netns]) -> Made:
    """Make the namespaces in turn, until one fails; in a forked child (not `home`, the
    session's process), close each one's handles."""
    made: list[Netns] = []
    for ns in namespaces:
        try:
            fd, sock = _make(session.topology, ns)
        except OSError as error:
            return made, (ns, error)
        if os.getpid() == home:
            session.adopt(ns.name, fd, sock)
        else:
            sock.close()
            os.close(fd)
        made.append(ns)
    return made, None


def _share_run_dir(session: Session) -> None:
    if not session.run_dir_shared:
        nsutil.share_run_dir()
        session.run_dir_shared = True


def _make(topology: str, ns: Netns) -> tuple[int, Rtnl]:
    """A new namespace, marked as the topology's, with an fd of it and a netlink socket
    inside it."""
    with nsutil.create_named(ns.name, netns_marker(topology)) as fd:
        sock = Rtnl()
        try:
            _quiet_ipv6()
            links.change(sock, "lo", up=ns.lo_up, IFLA_IFALIAS=netns_marker(topology))
        except BaseException:
            sock.close()
            raise
    return fd, sock


def remove_half_made(topology: str) -> list[str]:
    """Remove the files an agent killed while creating a namespace left in RUN_DIR: no
    namespace mounted on it, and the topology's marker as its whole content
    (nsutil.create_named writes it before the mount, into a file it made with O_EXCL).
    An apply makes the namespace on such a file; a destroy ends here. Any other file
    (empty, another topology's marker, a mounted namespace) is not provably ours and
    stays. The names removed, sorted."""
    marker = netns_marker(topology)
    removed = []
    for name in nsutil.list_named():
        if nsutil.stale_marker(name) == marker:
            try:
                os.unlink(nsutil.path_of(name))
            except FileNotFoundError:
                continue
            removed.append(name)
    return removed


def _quiet_ipv6() -> None:
    """Links created in this namespace from now on get no IPv6 link-local address, so
    hundreds of containers on one bridge do not flood it with DAD and MLD. IPv6 stays
    usable for addresses the topology asks for. Runs inside the namespace: a
    /proc/sys/net file belongs to the namespace of the thread that opens it."""
    if links.HAS_IPV6:
        with open(IPV6_DEFAULTS, "w") as knob:
            knob.write(str(links.IN6_ADDR_GEN_MODE_NONE))


def update(session: Session, ns: Netns, fields: tuple[str, ...]) -> None:
    if "lo_up" in fields:
        links.change(session.sock(ns.name), "lo", up=ns.lo_up)


def delete(session: Session, ns: Netns) -> None:
    """Like `ip netns del`. The kernel destroys the namespace, and the veth pairs in it,
    in the background and in batches (0.6 s for 500, against 26 ms a veth deleted one by
    one); settle() waits for the host ends, whose names may be reused next. The
    namespace's hosts file goes with it, and its processes are stopped first (they
    would keep it alive)."""
    process.delete_in(session, ns.name)
    session.dying.update(veth.host_ends_seen_from_root(session, ns.name))
    session.forget(ns.name)
    session.deleted()
    nsutil.remove_named(ns.name)
    hostsfile.remove(session, ns.name)


def settle(session: Session) -> None:
    """Return once the host veth ends of deleted namespaces are gone; delete the ones
    still there after SETTLE_SECONDS (their namespace is held by something else)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    pause = 0.005
    while session.dying:
        present = {link.index: link for link in links.dump(session.root)}
        session.dying &= present.keys()
        if session.dying and time.monotonic() > deadline:
            for index in sorted(session.dying):
                marker = parse_marker(present[index].alias)
                if marker and marker[0] == session.topology:
                    _delete_link(session.root, index)
            session.dying.clear()
        elif session.dying:
            time.sleep(pause)
            pause = min(pause * 2, 0.1)


def _delete_link(sock: Rtnl, index: int) -> None:
    try:
        links.delete(sock, index=index)
    except OSError as error:
        if error.errno != errno.ENODEV:  # gone meanwhile
            raise
