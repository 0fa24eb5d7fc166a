"""Published ports the host already gives to someone else: a port another netplan
topology publishes (the first DNAT made for a connection wins, so one of the two would
shadow the other), or one a process of the host listens on (the DNAT would take its
traffic). Docker refuses both: "Bind for 0.0.0.0:8080 failed: port is already
allocated", "address already in use". Pure.

Only a port the topology does not publish yet is checked: one it publishes already is
its own, whoever came to listen on it or publish it since; so re-applying a topology,
or destroying it, is never refused for its own ports.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from netplan.agent.state import HostState, PortInUse
from netplan.firewall.ports import PortMapping
from netplan.firewall.show import published
from netplan.plan.changes import Conflict


def port_conflicts(desired: HostState, observed: HostState) -> list[Conflict]:
    """One conflict per desired published port that is new on the host and takes a
    port in Facts.ports_in_use, naming the container and who holds the port."""
    taken = observed.facts.ports_in_use
    if not taken:
        return []
    found = []
    for container, mapping in new_published(desired, observed):
        for other in taken:
            host_ip = None if other.address == "0.0.0.0" else IPv4Address(other.address)
            if mapping.takes(other.port, other.protocol, host_ip):
                found.append(_conflict(container, mapping, other))
    return found


def publishes(state: HostState) -> bool:
    """The state publishes ports: its host's observation must report the ports others
    take (a saved plan's desired state, whose topology is not compiled again)."""
    return any(True for _ in published(state))


def new_published(desired: HostState,
                  observed: HostState) -> list[tuple[str | None, PortMapping]]:
    """The desired published ports (with their containers) that the topology does not
    publish on the host yet, on the same host address, port and protocol: only these
    are checked against what the host has; the others are the topology's own already."""
    ours = {_socket(mapping) for _, mapping in published(observed)}
    return [(container, mapping) for container, mapping in published(desired)
            if _socket(mapping) not in ours]


def described(container: str | None, mapping: PortMapping) -> str:
    """`published port 8080:80/tcp of container 'web'`, as conflicts name one."""
    what = f"published port {mapping}"
    if container is not None:
        what += f" of container '{container}'"
    return what


def _socket(mapping: PortMapping) -> tuple[IPv4Address | None, int, str]:
    return mapping.host_ip, mapping.host_port, mapping.protocol


def _conflict(container: str | None, mapping: PortMapping, other: PortInUse) -> Conflict:
    what = described(container, mapping)
    where = f"host port {other.address}:{other.port}/{other.protocol}"
    if other.topology:
        return Conflict(what, f"clashes with {where}, which netplan topology "
                              f"'{other.topology}' publishes",
                        f"use another host port or host address, or take the port out of "
                        f"topology '{other.topology}' first")  # fmt: skip
    flag = "t" if other.protocol == "tcp" else "u"
    return Conflict(what, f"clashes with {where}, which a process of the host listens on",
                    f"use another host port or host address, or stop the process that "
                    f"`ss -ln{flag}p 'sport = :{other.port}'` shows")
