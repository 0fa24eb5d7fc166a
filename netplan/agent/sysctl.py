"""Kernel settings of the host's namespace that a topology needs, read and written
through /proc/sys (which shows the namespace of the thread that opens it).

Sysctls carry no marker, so what is observed follows from what is owned:
`net.ipv4.ip_forward` while the topology's inet table exists (the two come and go
together, and forwarding is left on when they go, as Docker leaves it), and a
bridge's `route_localnet` when it is on (it is off by default; ours are set back to off).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from netplan.agent.resources import IP_FORWARD, Bridge, NftTable, Sysctl, route_localnet
from netplan.agent.session import Session

PROC_SYS = Path("/proc/sys")


def path(name: str) -> Path:
    """sysctl(8) name → file: dots separate, slashes stand for dots in a name."""
    return PROC_SYS.joinpath(*(part.replace("/", ".") for part in name.split(".")))


def read(name: str) -> str:
    return path(name).read_text().strip()


def observe(tables: Iterable[NftTable], bridges: Iterable[Bridge]) -> list[Sysctl]:
    found = []
    if any(table.family == "inet" for table in tables):
        found.append(Sysctl(IP_FORWARD, read(IP_FORWARD)))
    for bridge in bridges:
        name = route_localnet(bridge.name)
        if read(name) != "0":
            found.append(Sysctl(name, read(name)))
    return found


def create(session: Session, setting: Sysctl) -> None:
    path(setting.name).write_text(setting.value + "\n")


def update(session: Session, setting: Sysctl, fields: tuple[str, ...]) -> None:
    create(session, setting)


def delete(session: Session, setting: Sysctl) -> None:
    """A setting of one of our links goes back to the kernel default; a host-wide one
    (ip_forward) stays as it is: other software may rely on it by now."""
    if setting.dev is not None:
        path(setting.name).write_text("0\n")
