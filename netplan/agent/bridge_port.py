"""A link's settings as a port of its bridge (IFLA_BRPORT_* in IFLA_INFO_SLAVE_DATA):
read from the link dumps the agent makes anyway, never by a request per port, and
written with one `bridge_slave` request, as `ip link set DEV type bridge_slave ...`
writes them. Which settings netplan compares, and why, is resources.BridgePort's."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any

from netplan.agent import links, rtnl
from netplan.agent.links import Link
from netplan.agent.nlmsg import Attr
from netplan.agent.resources import FORWARDING, PORT_DEFAULTS, PORT_STATES, BridgePort
from netplan.agent.rtnl import NetlinkError
from netplan.agent.session import Session

# linux/if_link.h
IFLA_BRPORT_STATE, IFLA_BRPORT_MODE, IFLA_BRPORT_LEARNING, IFLA_BRPORT_UNICAST_FLOOD = 1, 4, 8, 9
IFLA_BRPORT_MCAST_FLOOD, IFLA_BRPORT_BCAST_FLOOD, IFLA_BRPORT_NEIGH_SUPPRESS = 27, 30, 32
IFLA_BRPORT_ISOLATED, IFLA_BRPORT_LOCKED = 33, 39
_FORWARDING = bytes([PORT_STATES.index(FORWARDING)])

FLAGS = {
    "port_isolated": (IFLA_BRPORT_ISOLATED, "IFLA_BRPORT_ISOLATED"),
    "port_flood": (IFLA_BRPORT_UNICAST_FLOOD, "IFLA_BRPORT_UNICAST_FLOOD"),
    "port_mcast_flood": (IFLA_BRPORT_MCAST_FLOOD, "IFLA_BRPORT_MCAST_FLOOD"),
    "port_bcast_flood": (IFLA_BRPORT_BCAST_FLOOD, "IFLA_BRPORT_BCAST_FLOOD"),
    "port_learning": (IFLA_BRPORT_LEARNING, "IFLA_BRPORT_LEARNING"),
    "port_locked": (IFLA_BRPORT_LOCKED, "IFLA_BRPORT_LOCKED"),
    "port_neigh_suppress": (IFLA_BRPORT_NEIGH_SUPPRESS, "IFLA_BRPORT_NEIGH_SUPPRESS"),
    "port_hairpin": (IFLA_BRPORT_MODE, "IFLA_BRPORT_MODE"),
}
"""The on/off settings of BridgePort, by the attribute that carries each (its type, as
read; its name, as written)."""
_DEFAULTS = {kind: bytes([PORT_DEFAULTS[name]]) for name, (kind, _) in FLAGS.items()}
"""Each flag's payload at its default; a kernel that does not send a flag has it so."""
_PICKER = rtnl.Picker(frozenset({IFLA_BRPORT_STATE, *(kind for kind, _ in FLAGS.values())}))


@dataclass(frozen=True)
class Port:
    """What the agent reads of a bridge port: the BridgePort fields that differ from their
    defaults, and its learning (which a tunnel wants off: resources.Vxlan.port_learning)."""

    settings: dict[str, Any]
    """BridgePort's fields that differ from PORT_DEFAULTS, by name."""
    learning: bool


NO_PORT = Port(settings={}, learning=False)
"""A link on no bridge: its BridgePort fields keep their defaults, and it learns
nothing."""
_AS_MADE = Port(settings={}, learning=True)
"""A port whose settings are all at their defaults (nearly every one): one shared value."""


def read(link: Link, bridge: Link | None) -> Port:
    """`link`'s settings as a port of `bridge` (its master, None if it has none). The STP
    state is read only where the kernel would forward through the port: `link` running
    and `bridge` up; otherwise the kernel holds the port disabled itself, and makes it
    forwarding when both are up, whatever it was set to."""
    if bridge is None or bridge.kind != "bridge" or not link.port_data:
        return NO_PORT
    found = _PICKER.pick(link.port_data)
    settings: dict[str, Any] = {
        name: value != b"\0" for name, (kind, _) in FLAGS.items()
        if (value := found.get(kind, _DEFAULTS[kind])) != _DEFAULTS[kind]}
    state = found.get(IFLA_BRPORT_STATE, _FORWARDING)
    if state != _FORWARDING and link.running and bridge.up and state[0] < len(PORT_STATES):
        settings["port_state"] = PORT_STATES[state[0]]
    return Port(settings, "port_learning" not in settings) if settings else _AS_MADE


def settings(port: BridgePort, fields: tuple[str, ...]) -> list[Attr]:
    """The `bridge_slave` attributes that set the BridgePort `fields` of `port`."""
    attrs: list[Attr] = [(attr, int(getattr(port, name)))
                         for name, (_, attr) in FLAGS.items() if name in fields]
    if "port_state" in fields:
        attrs.append(("IFLA_BRPORT_STATE", PORT_STATES.index(port.port_state)))
    return attrs


def write(session: Session, name: str, bridge: str, attrs: list[Attr]) -> None:
    """Set the port settings `attrs` of root-namespace link `name`, a port of `bridge`.
    The kernel refuses a state while its own STP runs on the bridge, which sets the
    states of its ports itself."""
    try:
        links.change(session.root, name, IFLA_LINKINFO=("bridge_slave", attrs))
    except NetlinkError as error:
        if error.errno != errno.EBUSY:
            raise
        raise ValueError(
            f"bridge {bridge} runs the kernel's STP, which sets the state of its ports "
            f"itself (hint: turn it off with `ip link set {bridge} type bridge stp_state 0`, "
            "or wait for it to make the port forwarding)") from error


def changed(fields: tuple[str, ...]) -> bool:
    """Whether an update of `fields` changes a BridgePort setting."""
    return not BridgePort.PORT_FIELDS.isdisjoint(fields)

