"""Subnets that cannot carry a network: loopback, multicast, reserved and the like.

Docker does not refuse them: moby's `ValidateIPAM` (api/types/network/ipam.go) checks
only that a subnet is in CIDR form and holds its ip-range, gateway and auxiliary
addresses, and the default IPAM driver (libnetwork/ipams/defaultipam) takes any pool
given. The failure comes later, from the kernel: a multicast subnet fails when a
container is connected ("network unreachable", moby/moby#42709), and here a loopback
subnet is put on the bridge while nothing can reach it (`ping: connect: Invalid
argument`). netplan refuses them while validating, before any host is touched:

- 0.0.0.0/8 ("this network", RFC 1122): a source address only, never a destination;
- 127.0.0.0/8 loopback: the kernel keeps it to `lo`, packets to it never leave a host;
- 169.254.0.0/16 link-local (RFC 3927): the kernel would route it, but it is the range
  links give themselves without a DHCP server, and where clouds answer metadata
  (169.254.169.254); Docker uses it only for `--link-local-ip`, next to a real subnet;
- 224.0.0.0/4 multicast: group addresses, which no interface can own as unicast;
- 240.0.0.0/4 reserved (RFC 1112), with the limited broadcast 255.255.255.255: Linux
  accepts it, but other hosts and routers drop it.

A subnet is refused when it overlaps one of them. The gateway, ip_range and static
`ipv4` addresses of a network lie inside its subnet (netplan.topology.address_checks
says so when they do not), so refusing the subnet covers them too, with one error.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Network

from netplan.errors import Problem
from netplan.topology.address_checks import with_subnets
from netplan.topology.model import Topology
from netplan.topology.positions import dotted

SPECIAL_RANGES: tuple[tuple[IPv4Network, str], ...] = (
    (IPv4Network("0.0.0.0/8"), "'this network' (0.0.0.0/8), a source address only"),
    (IPv4Network("127.0.0.0/8"), "loopback (127.0.0.0/8), which never leaves a host"),
    (IPv4Network("169.254.0.0/16"), "link-local (169.254.0.0/16), for automatic addresses"),
    (IPv4Network("224.0.0.0/4"), "multicast (224.0.0.0/4), which no interface can own"),
    (IPv4Network("240.0.0.0/4"), "reserved (240.0.0.0/4, with the broadcast "
                                 "255.255.255.255), which hosts and routers drop"),
)


def special_range(subnet: IPv4Network) -> str | None:
    """What special range `subnet` overlaps, worded for an error; None if none."""
    return next((what for special, what in SPECIAL_RANGES if special.overlaps(subnet)), None)


def check_special_subnets(topology: Topology) -> Iterator[Problem]:
    for name, _, subnet in with_subnets(topology):
        what = special_range(subnet)
        if what is not None:
            yield Problem(
                f"subnet {subnet} overlaps {what}",
                dotted(("networks", name, "subnet")),
                "use a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)",
            )
