"""Names netplan gives kernel objects, decided in one place (checks and compiler share them)."""

from __future__ import annotations

import hashlib

from netplan.topology.model import IFNAMSIZ, BridgeNetwork

BRIDGE_PREFIX = "br-"
HASH_DIGITS = 12
"""`br-` + 12 hex digits is exactly IFNAMSIZ (15 bytes)."""


def bridge_name(topology_name: str, network_name: str, network: BridgeNetwork) -> str:
    """The Linux bridge of a network: `bridge:` if given, else `br-<network>` when that
    fits in 15 bytes, else `br-` + 12 hex digits of sha256("<topology>/<network>")."""
    if network.bridge:
        return network.bridge
    readable = BRIDGE_PREFIX + network_name
    if len(readable.encode()) <= IFNAMSIZ:
        return readable
    digest = hashlib.sha256(f"{topology_name}/{network_name}".encode()).hexdigest()
    return BRIDGE_PREFIX + digest[:HASH_DIGITS]


def veth_name(topology_name: str, container: str, network: str) -> str:
    """Host end of a container's veth: `veth` + 7 hex digits, like Docker's (11 bytes)."""
    digest = hashlib.sha256(f"{topology_name}/{container}/{network}".encode()).hexdigest()
    return "veth" + digest[:7]
