"""The two ends of a reachability check (`checks:`), parsed from their text.

`from`: a container name, or `host:<name>` for a host itself (its own network namespace).
Names cannot contain ':', so the two never clash.
`to`: a container name, an IPv4 address, or `tcp://<target>:<port>` / `udp://<target>:<port>`
where `<target>` is a container name or an IPv4 address. Without a scheme the probe is an
ICMP echo (ping).
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from typing import Literal, NamedTuple

HOST_PREFIX = "host:"
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_URL = re.compile(r"(?P<proto>[a-z]+)://(?P<target>[^:/]*)(?::(?P<port>[^/]*))?/?")
PROTOCOLS = ("tcp", "udp")

Protocol = Literal["icmp", "tcp", "udp"]


class Source(NamedTuple):
    """Where a probe starts: a container's namespace, or a host's own."""

    name: str
    is_host: bool

    def __str__(self) -> str:
        return f"{HOST_PREFIX}{self.name}" if self.is_host else self.name


class Target(NamedTuple):
    """What a probe aims at: `container` (a name to resolve) or `address`, and how."""

    protocol: Protocol
    container: str | None
    address: IPv4Address | None
    port: int | None


def parse_source(text: str) -> Source:
    """`web` or `host:hostA`; raises ValueError with the accepted forms."""
    if text.startswith(HOST_PREFIX):
        name, is_host = text.removeprefix(HOST_PREFIX), True
    else:
        name, is_host = text, False
    if not re.fullmatch(_NAME, name):
        raise ValueError(
            f"from {text!r} must be a container name or 'host:<host name>'"
        )
    return Source(name, is_host)


def parse_target(text: str) -> Target:
    """`db`, `10.0.0.2`, `tcp://db:5432`, `udp://10.0.0.2:53`; raises ValueError."""
    if "://" not in text:
        return _plain("icmp", text, None, text)
    match = _URL.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a URL like tcp://db:5432 or udp://10.0.0.2:53")
    protocol = match["proto"]
    if protocol not in PROTOCOLS:
        raise ValueError(f"{text!r}: scheme {protocol!r} is not tcp or udp "
                         "(write a bare name or address for a ping)")
    port_text = match["port"]
    if not port_text:
        raise ValueError(f"{text!r} needs a port, like {protocol}://{match['target']}:80")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{text!r}: port {port_text!r} is not a number from 1 to 65535")
    return _plain("tcp" if protocol == "tcp" else "udp", match["target"], int(port_text), text)


def _plain(protocol: Protocol, target: str, port: int | None, text: str) -> Target:
    if re.fullmatch(r"[0-9]+(\.[0-9]+){3}", target):
        try:
            return Target(protocol, None, IPv4Address(target), port)
        except ValueError:
            raise ValueError(f"{text!r}: {target!r} is not an IPv4 address") from None
    if not re.fullmatch(_NAME, target):
        raise ValueError(f"{text!r}: {target!r} is neither a container name nor an IPv4 address")
    return Target(protocol, target, None, port)
