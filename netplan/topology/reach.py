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

from netplan.errors import FieldError

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
    """`web` or `host:hostA`; raises FieldError (a ValueError) with the accepted forms."""
    if text.startswith(HOST_PREFIX):
        name, is_host = text.removeprefix(HOST_PREFIX), True
    else:
        name, is_host = text, False
    if not re.fullmatch(_NAME, name):
        raise FieldError(
            f"from {text!r} must be a container name or 'host:<host name>'",
            "write a container's name, e.g. web, or host:<host name>, e.g. host:hostA",
        )
    return Source(name, is_host)


def parse_target(text: str) -> Target:
    """`db`, `10.0.0.2`, `tcp://db:5432`, `udp://10.0.0.2:53`; raises FieldError (a
    ValueError)."""
    if "://" not in text:
        return _plain("icmp", text, None, text)
    match = _URL.fullmatch(text)
    if match is None:
        raise FieldError(
            f"{text!r} is not a tcp:// or udp:// target",
            "write tcp://<target>:<port> or udp://<target>:<port>, e.g. tcp://db:5432",
        )
    protocol, target, port_text = match["proto"], match["target"], match["port"]
    if protocol not in PROTOCOLS:
        raise FieldError(
            f"{text!r}: scheme {protocol!r} is not tcp or udp",
            "use tcp:// or udp://, or write a bare name or address for a ping",
        )
    if not port_text:
        raise FieldError(f"{text!r} needs a port", f"add it, e.g. {protocol}://{target}:80")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise FieldError(
            f"{text!r}: port {port_text!r} is not a number from 1 to 65535",
            f"write a port from 1 to 65535, e.g. {protocol}://{target}:80",
        )
    return _plain("tcp" if protocol == "tcp" else "udp", target, int(port_text), text)


_TARGET_HINT = "write a container's name, e.g. db, or an IPv4 address, e.g. 10.0.0.2"


def _plain(protocol: Protocol, target: str, port: int | None, text: str) -> Target:
    if re.fullmatch(r"[0-9]+(\.[0-9]+){3}", target):
        try:
            return Target(protocol, None, IPv4Address(target), port)
        except ValueError:
            raise FieldError(f"{text!r}: {target!r} is not an IPv4 address", _TARGET_HINT) from None
    if not re.fullmatch(_NAME, target):
        raise FieldError(
            f"{text!r}: {target!r} is neither a container name nor an IPv4 address", _TARGET_HINT
        )
    return Target(protocol, target, None, port)
