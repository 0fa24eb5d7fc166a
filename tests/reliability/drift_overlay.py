"""Drift of the overlay, as an operator makes it with `ip` and `bridge`: a tunnel (VXLAN
device) deleted, set down, taken out of its bridge, set to learn (as a device or as a
port), given another local address or MTU; its FDB entries to remote VTEPs removed,
pointed elsewhere, made dynamic, or one added; its bridge's static entries for remote
MACs removed, moved to another port, made dynamic, or one added; its neighbour entries
removed, changed, made non-permanent, or one added. One change per tunnel in a batch.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tests.reliability.change import Made, Maker, maker, on_tunnel
from tests.reliability.survey import Owned

FLOOD_MAC = "00:00:00:00:00:00"
NOT_OURS = "198.51.100.{}"
"""Addresses (TEST-NET-2) no container has: a neighbour entry added for one."""


def _mac(rng: random.Random) -> str:
    """A locally administered MAC no container has (netplan's are 02:42:…)."""
    return "02:00:5e:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))


def _fdb(owned: Owned, tunnel: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = owned.place.json("bridge", "-j", "fdb", "show", "dev", tunnel)
    return entries


def _to_vteps(owned: Owned, tunnel: str) -> list[tuple[str, str]]:
    """(MAC, VTEP) of the tunnel's own entries."""
    return sorted((e["mac"], e["dst"]) for e in _fdb(owned, tunnel) if e.get("dst"))


def _unicast(owned: Owned, tunnel: str) -> list[tuple[str, str]]:
    return [(mac, dst) for mac, dst in _to_vteps(owned, tunnel) if mac != FLOOD_MAC]


def _elsewhere(owned: Owned, tunnel: str) -> list[tuple[str, str, str]]:
    """(MAC, VTEP, another of the tunnel's VTEPs) of each remote MAC's entry."""
    vteps = sorted({dst for mac, dst in _to_vteps(owned, tunnel) if mac == FLOOD_MAC})
    return [(mac, dst, other) for mac, dst in _unicast(owned, tunnel)
            for other in vteps if other != dst]


def _statics(owned: Owned, tunnel: str) -> list[str]:
    """MACs of the bridge's static entries on the tunnel."""
    return sorted(e["mac"] for e in _fdb(owned, tunnel)
                  if "master" in e and e.get("state") == "static")


def _other_ports(owned: Owned, tunnel: str) -> list[tuple[str, str]]:
    """(MAC, port) of each static entry on the tunnel and each other port of its bridge."""
    others = sorted(port for port, bridge in owned.ports.items()
                    if bridge == owned.ports[tunnel] and port != tunnel)
    return [(mac, port) for mac in _statics(owned, tunnel) for port in others]


def _neighbours(owned: Owned, tunnel: str) -> list[tuple[str, str]]:
    """(address, MAC) of the tunnel's permanent neighbour entries."""
    shown = owned.place.json("ip", "-j", "neigh", "show", "dev", tunnel, "nud", "permanent")
    return sorted((e["dst"], e["lladdr"]) for e in shown)


def _local(owned: Owned, tunnel: str) -> str:
    """The tunnel's own VTEP address."""
    [link] = owned.place.json("ip", "-j", "-d", "link", "show", "dev", tunnel)
    local: str = link["linkinfo"]["info_data"]["local"]
    return local


def _itself(owned: Owned, tunnel: str) -> list[str]:
    return [tunnel]


def _static_key(owned: Owned, tunnel: str, mac: str) -> tuple[str, ...]:
    return (f"bridge-fdb:{owned.ports[tunnel]}/{mac}",)


Target = tuple[str, Any]
"""A tunnel and what on it a change is made to."""


def _remove_fdb(owned: Owned, target: Target, rng: random.Random) -> Made:
    tunnel, (mac, dst) = target
    return f"bridge fdb del {mac} dev {tunnel} dst {dst}", (f"fdb:{tunnel}/{mac}/{dst}",)


def _redirect_fdb(owned: Owned, target: Target, rng: random.Random) -> Made:
    tunnel, (mac, dst, other) = target
    return (f"bridge fdb replace {mac} dev {tunnel} dst {other} self permanent",
            (f"fdb:{tunnel}/{mac}/{dst}", f"fdb:{tunnel}/{mac}/{other}"))


def _unpin_fdb(owned: Owned, target: Target, rng: random.Random) -> Made:
    tunnel, (mac, dst) = target
    return (f"bridge fdb replace {mac} dev {tunnel} dst {dst} self dynamic",
            (f"fdb:{tunnel}/{mac}/{dst}",))


def _add_flood_entry(owned: Owned, target: Target, rng: random.Random) -> Made:
    """To the host's own address: the replicated frames stay on it."""
    tunnel, _ = target
    local = _local(owned, tunnel)
    return (f"bridge fdb append {FLOOD_MAC} dev {tunnel} dst {local}",
            (f"fdb:{tunnel}/{FLOOD_MAC}/{local}",))


def _delete_static(owned: Owned, target: Target, rng: random.Random) -> Made:
    tunnel, mac = target
    return f"bridge fdb del {mac} dev {tunnel} master", _static_key(owned, tunnel, mac)


def _move_static(owned: Owned, target: Target, rng: random.Random) -> Made:
    """To a container's port of the same bridge."""
    tunnel, (mac, port) = target
    return f"bridge fdb replace {mac} dev {port} master static", _static_key(owned, tunnel, mac)


def _unpin_static(owned: Owned, target: Target, rng: random.Random) -> Made:
    tunnel, mac = target
    return (f"bridge fdb replace {mac} dev {tunnel} master dynamic",
            _static_key(owned, tunnel, mac))


def _add_static(owned: Owned, target: Target, rng: random.Random) -> Made:
    tunnel, _ = target
    mac = _mac(rng)
    return f"bridge fdb add {mac} dev {tunnel} master static", _static_key(owned, tunnel, mac)


def _delete_neighbour(owned: Owned, target: Target, rng: random.Random) -> Made:
    tunnel, (dst, _) = target
    return f"ip neigh del {dst} dev {tunnel}", (f"neigh:{tunnel}/{dst}",)


def _change_neighbour(owned: Owned, target: Target, rng: random.Random) -> Made:
    tunnel, (dst, _) = target
    return (f"ip neigh replace {dst} lladdr {_mac(rng)} dev {tunnel} nud permanent",
            (f"neigh:{tunnel}/{dst}",))


def _unpin_neighbour(owned: Owned, target: Target, rng: random.Random) -> Made:
    tunnel, (dst, mac) = target
    return (f"ip neigh replace {dst} lladdr {mac} dev {tunnel} nud reachable",
            (f"neigh:{tunnel}/{dst}",))


def _add_neighbour(owned: Owned, target: Target, rng: random.Random) -> Made:
    tunnel, _ = target
    dst = NOT_OURS.format(rng.randrange(1, 255))
    return (f"ip neigh add {dst} lladdr {_mac(rng)} dev {tunnel} nud permanent",
            (f"neigh:{tunnel}/{dst}",))


def _device(command: str) -> Callable[[Owned, Target, random.Random], Made]:
    """A change of the tunnel device itself: `command` with {tunnel}, and {other}, an
    address of the underlay's subnet no host has, or {mtu}, one netplan does not set."""
    def made(owned: Owned, target: Target, rng: random.Random) -> Made:
        tunnel, _ = target
        octets = _local(owned, tunnel).split(".") if "{other}" in command else ["0"] * 4
        other = ".".join([*octets[:3], str((int(octets[3]) + 100) % 254 + 1)])
        line = command.format(tunnel=tunnel, other=other, mtu=rng.choice((1280, 1300, 1400)))
        return line, (f"link:/{tunnel}",)

    return made


KINDS: dict[str, Maker] = {kind: maker(kind, on_tunnel(targets), made) for kind, targets, made in (
    ("remove an FDB entry", _to_vteps, _remove_fdb),
    ("point an FDB entry at another VTEP", _elsewhere, _redirect_fdb),
    ("make an FDB entry dynamic", _unicast, _unpin_fdb),
    ("add a head-end replication entry", _itself, _add_flood_entry),
    ("delete a static bridge FDB entry", _statics, _delete_static),
    ("move a static bridge FDB entry to another port", _other_ports, _move_static),
    ("make a static bridge FDB entry dynamic", _statics, _unpin_static),
    ("add a static bridge FDB entry", _itself, _add_static),
    ("delete a neighbour entry", _neighbours, _delete_neighbour),
    ("change a neighbour entry's MAC", _neighbours, _change_neighbour),
    ("make a neighbour entry non-permanent", _neighbours, _unpin_neighbour),
    ("add a neighbour entry", _itself, _add_neighbour),
    ("delete a VXLAN device", _itself, _device("ip link del {tunnel}")),
    ("set a VXLAN device down", _itself, _device("ip link set {tunnel} down")),
    ("move a VXLAN device out of its bridge", _itself, _device("ip link set {tunnel} nomaster")),
    ("turn learning on on a VXLAN device", _itself,
     _device("ip link set dev {tunnel} type vxlan learning")),
    ("turn learning on on a VXLAN port", _itself,
     _device("bridge link set dev {tunnel} learning on")),
    ("change a VXLAN device's local address", _itself,
     _device("ip link set dev {tunnel} type vxlan local {other}")),
    ("change a VXLAN device's MTU", _itself, _device("ip link set dev {tunnel} mtu {mtu}")),
)}
