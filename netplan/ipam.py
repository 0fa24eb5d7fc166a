"""Central, deterministic, sticky IPv4 allocation, in Docker's order.

The gateway comes first: the explicit one, else the lowest usable address of the pool
(the `ip_range` when given, else the subnet). Containers with a static address keep it;
a container keeps the address netplan last applied to it (sticky: `recorded`), or, when
netplan has no record of it, the address it has now (`current`); the others get the
lowest free addresses of the pool, in the order the file lists them. A static address
that another container still asking for none would keep (the last apply gave it, or,
without a record, the container has it now) is refused, as Docker refuses one in use
("Address already in use"): it would renumber that container.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import ClassVar, Protocol


@dataclass(frozen=True)
class Pool:
    subnet: IPv4Network
    range: IPv4Network
    gateway: IPv4Address

    def usable(self, address: IPv4Address) -> bool:
        """In the subnet, and neither its network nor its broadcast address."""
        low, high = self._usable_bounds()
        return low <= int(address) <= high

    def _usable_bounds(self) -> tuple[int, int]:
        """The lowest and highest usable address as integers: the subnet less its network
        address, and less its broadcast address below /31."""
        low = int(self.subnet.network_address) + 1
        high = int(self.subnet.broadcast_address) - (self.subnet.prefixlen < 31)
        return low, high

    def dynamic_addresses(self) -> Iterator[IPv4Address]:
        """Addresses handed out automatically, lowest first (range ∩ usable)."""
        return map(IPv4Address, self.dynamic_values())

    def dynamic_values(self) -> Sequence[int]:
        """dynamic_addresses as integers: range ∩ usable is one run of them, so a pool
        of a thousand taken addresses is walked without making an address of each."""
        low, high = self._usable_bounds()
        first = max(int(self.range.network_address), low)
        last = min(int(self.range.broadcast_address), high)
        return range(first, last + 1)


def make_pool(
    subnet: IPv4Network, ip_range: IPv4Network | None, gateway: IPv4Address | None
) -> Pool:
    pool = Pool(subnet, ip_range or subnet, gateway or IPv4Address(0))
    if gateway is None:
        first = next(pool.dynamic_addresses(), None)
        if first is None:
            raise ExhaustedError("no usable address for the gateway")
        pool = Pool(subnet, pool.range, first)
    return pool


class Addressed(Protocol):
    """A network with an IPv4 pool (bridge, overlay, macvlan)."""

    DEFAULT_GATEWAY: ClassVar[bool]
    """Whether the network has a gateway when none is given (a bridge: yes; an overlay: no)."""

    @property
    def subnet(self) -> IPv4Network | None: ...
    @property
    def ip_range(self) -> IPv4Network | None: ...
    @property
    def gateway(self) -> IPv4Address | None: ...


NO_GATEWAY = IPv4Address(0)
"""The gateway of a pool that has none: never a usable address, so it reserves nothing."""


def network_pool(network: Addressed) -> Pool:
    """The pool of a network with a subnet: compile gives one from the default pools to
    every network the file leaves without (netplan.subnet_pools)."""
    if network.subnet is None:
        raise TypeError("a network without a subnet has no pool: compile gives it one")
    if network.gateway is None and not network.DEFAULT_GATEWAY:
        return Pool(network.subnet, network.ip_range or network.subnet, NO_GATEWAY)
    return make_pool(network.subnet, network.ip_range, network.gateway)


class ExhaustedError(ValueError):
    """The pool has fewer free addresses than containers asking for one."""


@dataclass(frozen=True)
class Request:
    container: str
    static: IPv4Address | None = None


@dataclass(frozen=True)
class InUse:
    """`container`'s static address is `holder`'s: given by the last apply (`recorded`),
    or, without a record of it, the one it has now."""

    container: str
    address: IPv4Address
    holder: str
    recorded: bool = True


class AddressInUseError(ValueError):
    """Static addresses that would take running containers' addresses: every one found."""

    def __init__(self, clashes: list[InUse]) -> None:
        super().__init__("; ".join(f"{c.address} of container {c.container!r} is "
                                   f"container {c.holder!r}'s" for c in clashes))
        self.clashes = clashes


def statics_in_use(
    requests: Sequence[Request], recorded: Mapping[str, IPv4Address],
    current: Mapping[str, IPv4Address],
) -> list[InUse]:  # fmt: skip
    """The static addresses that another container still asking for a dynamic one would
    keep (sticky): the one the last apply gave it (`recorded`); when no record knows the
    container (an older netplan, an apply killed before it recorded), the one it has now
    (`current`). A container with a record is not judged by what it has now: that may
    have been changed by hand (drift, which apply puts back). A container that left the
    network, or that the file now gives a static address too, frees its address."""
    holders: dict[IPv4Address, tuple[str, bool]] = {}
    for request in requests:
        known = request.container in recorded
        kept = (recorded if known else current).get(request.container)
        if request.static is None and kept is not None:
            holders[kept] = (request.container, known)
    return [InUse(r.container, r.static, *holders[r.static]) for r in requests
            if r.static is not None and r.static in holders]


def allocate(
    pool: Pool,
    requests: Sequence[Request],
    current: Mapping[str, IPv4Address],
    recorded: Mapping[str, IPv4Address] | None = None,
) -> dict[str, IPv4Address]:
    """Addresses by container. `recorded` holds the addresses netplan last applied,
    `current` those containers have now. A recorded address wins: the current one may
    have been changed by hand (drift, which apply puts back), so it is kept only for a
    container the record does not know (first apply by this version, a killed apply).
    AddressInUseError when a static address is one another container keeps."""
    recorded = recorded or {}
    clashes = statics_in_use(requests, recorded, current)
    if clashes:
        raise AddressInUseError(clashes)
    taken = {pool.gateway}
    result: dict[str, IPv4Address] = {}
    for request in requests:
        if request.static is not None:
            result[request.container] = request.static
            taken.add(request.static)
    dynamic = [r.container for r in requests if r.static is None]
    for container, kept in (
        *((c, recorded.get(c)) for c in dynamic),
        *((c, current.get(c)) for c in dynamic if c not in recorded),
    ):
        if kept is not None and pool.usable(kept) and kept not in taken:
            result[container] = kept
            taken.add(kept)
    taken_values = {int(address) for address in taken}
    free = (IPv4Address(v) for v in pool.dynamic_values() if v not in taken_values)
    for request in requests:
        if request.container not in result:
            address = next(free, None)
            if address is None:
                raise ExhaustedError(f"no free address left for container {request.container!r}")
            result[request.container] = address
    return result


def dynamic_capacity(pool: Pool, statics: Sequence[IPv4Address]) -> int:
    """How many containers without a static address the pool can still take."""
    ends = {pool.subnet.network_address}
    if pool.subnet.prefixlen < 31:
        ends.add(pool.subnet.broadcast_address)
    usable_in_range = pool.range.num_addresses - sum(1 for a in ends if a in pool.range)
    reserved = {a for a in (pool.gateway, *statics) if a in pool.range and pool.usable(a)}
    return usable_in_range - len(reserved)


def mac_for(address: IPv4Address) -> str:
    """Docker's derived MAC: 02:42 followed by the four bytes of the IPv4 address."""
    return "02:42:{:02x}:{:02x}:{:02x}:{:02x}".format(*address.packed)
