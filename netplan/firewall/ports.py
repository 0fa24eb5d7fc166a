"""Published ports in Docker's form: `[host_ip:]host_port:container_port[/protocol]`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address

PROTOCOLS = ("tcp", "udp", "sctp")
PATTERN = r"((\d{1,3}\.){3}\d{1,3}:)?\d{1,5}:\d{1,5}(/(tcp|udp|sctp))?"
"""For editors (JSON Schema); `PortMapping.parse` is the rule and words the messages."""

_FORM = re.compile(r"(?:(?P<ip>[^:/]*):)?(?P<host>[^:/]*):(?P<container>[^:/]*)(?:/(?P<proto>.*))?")
LOOPBACK = "127.0.0.0/8"


@dataclass(frozen=True)
class PortMapping:
    """One published port: traffic to `host_ip` (any local address when None) port
    `host_port` goes to the container's `container_port`."""

    host_port: int
    protocol: str
    container_port: int
    host_ip: IPv4Address | None = None

    @classmethod
    def parse(cls, text: str) -> PortMapping:
        """The mapping, or ValueError with a message saying what is wrong."""
        match = _FORM.fullmatch(text)
        if match is None:
            raise ValueError(
                f"'{text}' is not a published port like 8080:80/tcp or 127.0.0.1:5353:53/udp"
            )
        ip, proto = match["ip"], match["proto"] or "tcp"
        if proto not in PROTOCOLS:
            raise ValueError(f"'{text}' has an unknown protocol '{proto}'")
        host_ip = None
        if ip is not None:
            try:
                host_ip = IPv4Address(ip)
            except AddressValueError:
                raise ValueError(f"'{text}': '{ip}' is not an IPv4 address of the host") from None
            if host_ip.is_unspecified:
                host_ip = None
        return cls(_port(text, match["host"], "host"), proto,
                   _port(text, match["container"], "container"), host_ip)

    def overlaps(self, other: PortMapping) -> bool:
        """Both would take the same port on some host address."""
        return self.takes(other.host_port, other.protocol, other.host_ip)

    def takes(self, port: int, protocol: str, host_ip: IPv4Address | None) -> bool:
        """It would take that port on that host address (None: on every address): the
        same port and protocol, and one of the addresses is every address or both are
        the same."""
        same_ip = self.host_ip is None or host_ip is None or self.host_ip == host_ip
        return (self.host_port, self.protocol) == (port, protocol) and same_ip

    @property
    def via_localhost(self) -> bool:
        """Reachable through 127.0.0.1 from the host itself (needs route_localnet)."""
        return self.host_ip is None or self.host_ip.is_loopback

    @property
    def from_outside(self) -> bool:
        """Reachable from other hosts and namespaces (a loopback binding is not)."""
        return self.host_ip is None or not self.host_ip.is_loopback

    def __str__(self) -> str:
        where = f"{self.host_ip}:" if self.host_ip else ""
        return f"{where}{self.host_port}:{self.container_port}/{self.protocol}"


def _port(text: str, value: str, which: str) -> int:
    if "-" in value:
        raise ValueError(f"'{text}': port ranges are not supported")
    if not value.isdigit():
        what = f"'{value}'" if value else "nothing"
        raise ValueError(f"'{text}': the {which} port is {what}, not a number from 1 to 65535")
    port = int(value)
    if not 1 <= port <= 65535:
        raise ValueError(f"'{text}': {which} port {port} is out of range 1-65535")
    return port
