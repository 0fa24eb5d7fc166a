"""Whether the namespace named for a container is the topology's: ownership lives in the
namespace itself, as the marker on its `lo` (resources.netns_marker), read with one
netlink request from inside the namespace the caller enters anyway.

For what enters a container's namespace by its name, `netplan exec` and verify's probes:
a namespace of that name may be missing (the topology is not applied), another
topology's, or one made by hand (`ip netns add`), and is then not the container. verify
judges the containers a check starts in or aims at from its observation first
(netplan/reachability/ownership.py), in the same words. A `network_mode: host` container
has no namespace to carry a marker: it is the topology's where the topology is applied,
as the last-applied record's roster of hosts says.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

from netplan.agent import links, netns, nsutil, record
from netplan.agent.rtnl import Rtnl


class NotTheContainer(Exception):
    """What stands for a container of a topology is not one of its containers: what it
    is instead, and what to do, in one line."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(f"{what} (hint: {hint})")


def missing(topology: str, name: str) -> NotTheContainer:
    return NotTheContainer(
        f"namespace {name} does not exist ({nsutil.path_of(name)}): the container is not "
        "applied", f"apply topology '{topology}' first")


def judge(topology: str, name: str, owner: str | None) -> NotTheContainer | None:
    """Why the namespace `name`, whose lo's marker names `owner` (None: no marker), is
    not a container of `topology`; None when it is one."""
    if owner == topology:
        return None
    if owner is None:
        return NotTheContainer(
            f"namespace {name} was not made by netplan (its lo carries no topology's marker)",
            f"it was made by hand (ip netns add?): remove it or rename the container, "
            f"then apply topology '{topology}'")
    return NotTheContainer(
        f"namespace {name} belongs to netplan topology '{owner}', not to '{topology}'",
        f"use the file of topology '{owner}', or destroy that topology and apply "
        f"'{topology}'")


def check_inside(topology: str, name: str) -> None:
    """Raise NotTheContainer unless the calling thread's network namespace, entered as
    `name`, carries `topology`'s marker (read as observation reads it: netns.observe)."""
    sock = Rtnl()
    try:
        lo = links.find(sock, links.LOOPBACK)
    finally:
        sock.close()
    owner, _ = netns.observe(name, [lo] if lo else [])
    refusal = judge(topology, name, owner)
    if refusal is not None:
        raise refusal


def not_applied(topology: str, host: str, file: str) -> NotTheContainer:
    """A `network_mode: host` container of `topology` on `host`, where the topology's
    last-applied record does not name that host."""
    return NotTheContainer(f"topology '{topology}' is not applied on host {host}",
                           f"netplan apply {file}")


def check_applied(topology: str, host: str, file: str) -> None:
    """Raise NotTheContainer unless the topology's last apply on this host (its record's
    roster) named `host`: what ties a `network_mode: host` container to this host."""
    if host not in record.roster(topology):
        raise not_applied(topology, host, file)
