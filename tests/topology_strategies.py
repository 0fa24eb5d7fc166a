"""A hypothesis strategy for VALID topologies, small enough to apply on the kernel.

One host; up to 3 bridge networks (any mix of mtu, internal, icc, nat, ip_range, gateway
and bridge name, network names long enough to get hashed bridge names), up to 6
containers in every network mode (attached by the list or the mapping form with static
addresses, MACs and aliases; `none`; `host`; `container:` an earlier container), some
running a process (`sleep`, with one of two arguments), and published ports. Whatever it
draws, `netplan validate` must accept.

`topologies(like=data)` draws a neighbour of a topology drawn before: its name, and
networks and containers among those it has (so that each may change in place, move, or
go), for plans from one to the other.

Addresses are laid out so that nothing can clash: network i has 10.(60+i).0.0/24; a
container's static address is .(10+its index), below the ranges' .128 and above the
gateways (.1, or .129 with a range); host ports are 20000 + a running number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

NAMES = st.from_regex(r"[a-z][a-z0-9_.-]{0,19}", fullmatch=True)
"""Topology and network names: past 12 characters a bridge gets a hashed name."""
CONTAINER_NAMES = st.from_regex(r"c[a-z0-9_-]{0,14}", fullmatch=True)
"""`c` first, so that no alias (`al…`) is another container's name."""
MODES = ("networks", "networks", "networks", "none", "host", "container", "bare")
COMMANDS = (None, None, ["sleep", "3600"], ["sleep", "3601"])
"""No process twice as often; two commands, so that a neighbour may change one."""


@st.composite
def _names(draw: st.DrawFn, names: st.SearchStrategy[str], like: list[str] | None,
           min_size: int = 0, max_size: int = 6) -> list[str]:
    """Names drawn from `names`, or, for a neighbour, most of the names `like` has (each
    kept three times in four) and maybe new ones, in any order."""
    if like is None:
        return draw(st.lists(names, unique=True, min_size=min_size, max_size=max_size))
    kept = [name for name in like if draw(st.sampled_from([True, True, True, False]))]
    added = draw(st.lists(names.filter(lambda name: name not in like), unique=True,
                          max_size=max(0, max_size - len(kept))))  # fmt: skip
    return draw(st.permutations(kept + added or like[:min_size]))


@st.composite
def bridge_networks(draw: st.DrawFn, like: list[str] | None = None
                    ) -> dict[str, dict[str, Any]]:  # fmt: skip
    names = draw(_names(NAMES, like, min_size=1, max_size=3))
    networks: dict[str, dict[str, Any]] = {}
    for index, name in enumerate(names):
        subnet = f"10.{60 + index}.0"
        spec: dict[str, Any] = {"subnet": f"{subnet}.0/24"}
        if draw(st.booleans()):
            spec["ip_range"] = f"{subnet}.128/25"
        if draw(st.booleans()):
            spec["gateway"] = f"{subnet}.254"
        if draw(st.booleans()):
            spec["bridge"] = f"fzbr{index}"
        mtu = draw(st.sampled_from([None, 1280, 1500, 9000]))
        if mtu is not None:
            spec["mtu"] = mtu
        for flag in ("internal", "icc", "nat"):
            choice = draw(st.sampled_from([None, True, False]))
            if choice is not None:
                spec[flag] = choice
        networks[name] = spec
    return networks


def _routed(networks: dict[str, dict[str, Any]], attached: list[str]) -> bool:
    """Whether a container on `attached` can publish ports (a bridge that is not internal)."""
    return any(not networks[name].get("internal", False) for name in attached)


@st.composite
def attachment(draw: st.DrawFn, network_index: int, container_index: int) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if draw(st.booleans()):
        spec["ipv4"] = f"10.{60 + network_index}.0.{10 + container_index}"
    if draw(st.booleans()):
        spec["mac"] = f"02:00:00:00:{network_index:02x}:{container_index:02x}"
    aliases = draw(st.integers(0, 2))
    if aliases:
        spec["aliases"] = [f"al{container_index}x{n}" for n in range(aliases)]
    return spec


@st.composite
def topologies(draw: st.DrawFn, like: dict[str, Any] | None = None) -> dict[str, Any]:
    """A topology as plain data, ready for yaml.safe_dump; with `like`, a neighbour of it."""
    networks = draw(bridge_networks(None if like is None else list(like["networks"])))
    network_names = list(networks)
    containers: dict[str, dict[str, Any]] = {}
    own_namespace: list[str] = []
    next_port = 20000
    names = _names(CONTAINER_NAMES, None if like is None else list(like["containers"]),
                   max_size=6)
    for index, name in enumerate(draw(names)):
        mode = draw(st.sampled_from(MODES))
        if mode == "container" and not own_namespace:
            mode = "none"
        spec: dict[str, Any] = {}
        if mode == "none" or mode == "host":
            spec["network_mode"] = mode
        elif mode == "container":
            spec["network_mode"] = "container:" + draw(st.sampled_from(own_namespace))
        elif mode == "networks":
            attached = draw(st.lists(st.sampled_from(network_names), min_size=1, unique=True))
            if draw(st.booleans()):
                spec["networks"] = attached
            else:
                spec["networks"] = {
                    net: draw(attachment(network_names.index(net), index)) or None
                    for net in attached
                }
            if _routed(networks, attached) and draw(st.booleans()):
                spec["publish"] = [f"{next_port}:80", f"{next_port + 1}:53/udp"]
                next_port += 2
        command = draw(st.sampled_from(COMMANDS))
        if command is not None:
            spec["command"] = command
        if mode in ("networks", "none", "bare"):
            own_namespace.append(name)
        containers[name] = spec or None
    name = "fz-" + draw(NAMES) if like is None else like["name"]
    return {"name": name, "networks": networks, "containers": containers}


HOSTS = ("hostA", "hostB", "hostC")
OVERLAYS = ("ov", "ow")
"""Overlay network names; network i has 10.(80+i).0.0/24 and VNI 42+i or 4242+i if any."""


@st.composite
def overlay_topologies(draw: st.DrawFn, like: dict[str, Any] | None = None,
                       most_hosts: int = 3) -> dict[str, Any]:  # fmt: skip
    """Two or three (at most `most_hosts`) hosts joined by up to two overlays (VNI given or
    not, static addresses or not), with up to 6 containers, each on one host and on one or
    both overlays; with `like`, a neighbour of it, whose containers may also have moved to
    another host."""
    count = draw(st.integers(2, most_hosts)) if like is None else len(like["hosts"])
    hosts = list(HOSTS[:count])
    names = draw(_names(st.sampled_from(OVERLAYS), None if like is None
                        else list(like["networks"]), min_size=1, max_size=2))  # fmt: skip
    networks: dict[str, dict[str, Any]] = {}
    for name in names:
        index = OVERLAYS.index(name)
        spec: dict[str, Any] = {"driver": "overlay", "subnet": f"10.{80 + index}.0.0/24"}
        vni = draw(st.sampled_from([None, 42 + index, 4242 + index]))
        if vni is not None:
            spec["vni"] = vni
        networks[name] = spec
    containers = draw(_members(like, names,
                               lambda net, i: f"10.{80 + OVERLAYS.index(net)}.0.{10 + i}"))
    for spec in containers.values():
        spec["host"] = draw(st.sampled_from(hosts))
    name = "fz-" + draw(NAMES) if like is None else like["name"]
    return {"name": name, "hosts": hosts, "networks": networks, "containers": containers}


@st.composite
def _members(draw: st.DrawFn, like: dict[str, Any] | None, networks: list[str],
             address: Callable[[str, int], str]) -> dict[str, dict[str, Any]]:
    """Up to 6 containers (for a neighbour: most of `like`'s, maybe new ones), each on one
    or more of `networks`, by the list form or with the static address `address(network,
    its index)` on each."""
    members: dict[str, dict[str, Any]] = {}
    chosen = _names(CONTAINER_NAMES, None if like is None else list(like["containers"]),
                    max_size=6)
    for index, name in enumerate(draw(chosen)):
        attached = draw(st.lists(st.sampled_from(networks), min_size=1, unique=True))
        static = draw(st.booleans())
        members[name] = {"networks": {net: {"ipv4": address(net, index)} for net in attached}
                         if static else attached}  # fmt: skip
    return members


LANS = ("lan", "wan")
PARENTS = ("eth1", "eth1.10", "eth1.20")
"""The host's interface eth1, and two VLANs on it that netplan makes."""


@st.composite
def macvlan_topologies(draw: st.DrawFn, like: dict[str, Any] | None = None) -> dict[str, Any]:
    """One host's macvlan networks (parent eth1 or a VLAN of it, any mode, a gateway or
    not) with up to 6 containers on one or both; with `like`, a neighbour of it (another
    parent or mode, containers moved or gone)."""
    names = draw(_names(st.sampled_from(LANS), None if like is None else list(like["networks"]),
                        min_size=1, max_size=2))  # fmt: skip
    networks: dict[str, dict[str, Any]] = {}
    for name in names:
        index = LANS.index(name)
        spec: dict[str, Any] = {"driver": "macvlan", "parent": draw(st.sampled_from(PARENTS)),
                                "subnet": f"192.168.{1 + index}.0/24"}  # fmt: skip
        mode = draw(st.sampled_from([None, "bridge", "private", "vepa"]))
        if mode is not None:
            spec["mode"] = mode
        if draw(st.booleans()):
            spec["gateway"] = f"192.168.{1 + index}.1"
        networks[name] = spec
    containers = draw(_members(like, names,
                               lambda net, i: f"192.168.{1 + LANS.index(net)}.{10 + i}"))
    name = "fz-" + draw(NAMES) if like is None else like["name"]
    return {"name": name, "networks": networks, "containers": containers}
