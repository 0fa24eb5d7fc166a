"""Names netplan gives kernel objects, decided in one place (checks and compiler share them)."""

from __future__ import annotations

import hashlib

from netplan.topology.model import IFNAMSIZ, BridgeNetwork, OverlayNetwork

BRIDGE_PREFIX = "br-"
VXLAN_PREFIX = "vx-"
HASH_DIGITS = 12
"""`br-` + 12 hex digits is exactly IFNAMSIZ (15 bytes)."""


def bridge_name(
    topology_name: str, network_name: str, network: BridgeNetwork | OverlayNetwork
) -> str:
    """The Linux bridge of a network: `bridge:` if given, else `br-<network>` when that
    fits in 15 bytes, else `br-` + 12 hex digits of sha256("<topology>/<network>")."""
    return network.bridge or _readable(BRIDGE_PREFIX, topology_name, network_name)


def vxlan_name(topology_name: str, network_name: str) -> str:
    """The VXLAN device of an overlay on each of its hosts: `vx-<network>`, or `vx-` +
    12 hex digits when that is too long."""
    return _readable(VXLAN_PREFIX, topology_name, network_name)


def _readable(prefix: str, topology_name: str, network_name: str) -> str:
    readable = prefix + network_name
    if len(readable.encode()) <= IFNAMSIZ:
        return readable
    digest = hashlib.sha256(f"{topology_name}/{network_name}".encode()).hexdigest()
    return prefix + digest[:HASH_DIGITS]


def veth_name(topology_name: str, container: str, network: str) -> str:
    """Host end of a container's veth: `veth` + 7 hex digits, like Docker's (11 bytes)."""
    digest = hashlib.sha256(f"{topology_name}/{container}/{network}".encode()).hexdigest()
    return "veth" + digest[:7]


def bridge_mac(topology_name: str, network_name: str, host: str) -> str:
    """The MAC a network's bridge is given on `host`. A bridge without one takes the
    lowest MAC of its ports, so adding a container would change every container's
    gateway MAC whenever the new port's random MAC is lower (Docker sets a random MAC on
    its bridges for this). Derived from sha256("<topology>/<network>/<host>"): the same
    on every apply, different on each host of an overlay (one L2 segment); `06:` is a
    locally administered unicast prefix that container MACs (02:42:...) never have."""
    digest = hashlib.sha256(f"{topology_name}/{network_name}/{host}".encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x06, *digest[:5]))
