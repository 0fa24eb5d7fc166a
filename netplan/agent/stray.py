"""Stray links: root-namespace links a topology owns (its marker, or its making group) that
are none of its bridges, veths, tunnels or VLAN links. The usual one is a veth's host end
whose other end is in none of the topology's namespaces: `ip netns del web` removes the
name only, and while a process still runs inside, the namespace lives on unnamed, with
the container's end of the veth (still a port of the bridge, still served by the
process). The marker says whose the link is, wherever its other end is: the plan deletes
it (a veth's other end with it) and makes the container again; the process's update
stops the process left in the old namespace (netplan/agent/process.py).

Only observed and deleted: nothing desires a stray link, and none is made again by a
rollback (netplan/plan/inverse.py), as what it was attached to cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterable

from netplan.agent import links
from netplan.agent.links import Link
from netplan.agent.resources import StrayLink
from netplan.agent.session import Session


def observe(topology: str, unclaimed: Iterable[Link]) -> list[StrayLink]:
    """The topology's links among `unclaimed`: root-namespace links that no observer of
    a kind took as one of its resources, after every named namespace was looked into
    (else a veth's host end is unclaimed only because its namespace was not read)."""
    found = []
    for link in unclaimed:
        marker = links.ownership(topology, link)
        if marker is None or marker[0] != topology:
            continue
        details = [part or None for part in marker[1:]]
        network = details[0] if details else None
        container = details[1] if len(details) > 1 else None
        found.append(StrayLink(link.name, link.kind, _why(link), network, container))
    return found


def _why(link: Link) -> str:
    if link.kind != "veth":
        return ("carries this topology's marker but is none of its bridges, veths, tunnels "
                "or VLAN links")
    if link.peer_netnsid is None:
        return "a veth host end whose other end is in the root namespace, not in a container"
    return ("a veth host end whose other end is in none of the topology's namespaces: in "
            "one without a name, or someone else's")


def create(session: Session, link: StrayLink) -> None:
    raise ValueError("a stray link is never made: nothing desires one")


def delete(session: Session, link: StrayLink) -> None:
    """Deleting either end of a veth deletes the pair."""
    links.delete(session.root, link.name)
    session.deleted()
