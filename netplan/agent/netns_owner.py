"""Whether the namespace named for a container is the topology's: ownership lives in the
namespace itself, as the marker on its `lo` (resources.netns_marker), read with one
netlink request from inside the namespace the caller enters anyway.

For what enters a container's namespace by its name, `netplan exec` and verify's probes:
a namespace of that name may be missing (the topology is not applied), another
topology's, or one made by hand (`ip netns add`), and is then not the container.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

from netplan.agent import links, netns, nsutil
from netplan.agent.rtnl import Rtnl


class NotTheContainer(Exception):
    """The namespace named for a container of `topology` is not one of its containers:
    what it is instead, and what to do, in one line."""

    def __init__(self, netns: str, what: str, hint: str) -> None:
        super().__init__(f"namespace {netns} {what} (hint: {hint})")


def missing(topology: str, name: str) -> NotTheContainer:
    return NotTheContainer(
        name, f"does not exist ({nsutil.path_of(name)}): the container is not applied",
        f"apply topology '{topology}' first")


def check_inside(topology: str, name: str) -> None:
    """Raise NotTheContainer unless the calling thread's network namespace, entered as
    `name`, carries `topology`'s marker (read as observation reads it: netns.observe)."""
    sock = Rtnl()
    try:
        lo = links.find(sock, links.LOOPBACK)
    finally:
        sock.close()
    owner, _ = netns.observe(name, [lo] if lo else [])
    if owner is None:
        raise NotTheContainer(
            name, "was not made by netplan (its lo carries no topology's marker)",
            f"it was made by hand (ip netns add?): remove it or rename the container, "
            f"then apply topology '{topology}'")
    if owner != topology:
        raise NotTheContainer(
            name, f"belongs to netplan topology '{owner}', not to '{topology}'",
            f"use the file of topology '{owner}', or destroy that topology and apply "
            f"'{topology}'")
