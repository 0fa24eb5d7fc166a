"""The firewall settings a host's observed tables say the topology has, for `show`:
per network `nat`/`internal`/`icc` where not the default, per container `publish`, and
the networks' order as the per-bridge rules follow it; and the published ports a
state's table has (also what port clashes are found from).
Reads the canonical rule text that rules.py renders (and the agent reads back)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from netplan.agent.ports import PUBLISHED
from netplan.agent.resources import Address, Bridge, NftTable, Veth
from netplan.agent.state import HostState
from netplan.firewall.ports import PortMapping


def network_settings(state: HostState) -> dict[str, dict[str, Any]]:
    """Network name → the firewall fields that differ from their defaults."""
    rules = _rules(state, "inet")
    icc_off = " ".join(_rules(state, "bridge"))
    found: dict[str, dict[str, Any]] = {}
    for bridge in state.resources.values():
        if not isinstance(bridge, Bridge):
            continue
        quoted = f'"{bridge.name}"'
        spec: dict[str, Any] = {}
        if f"forward: iifname {quoted} oifname != {quoted} drop" in rules:
            spec["internal"] = True
        elif not any(r.endswith(f"oifname != {quoted} masquerade") for r in rules):
            spec["nat"] = False
        ports = [r.peer for r in state.resources.values()
                 if isinstance(r, Veth) and r.bridge == bridge.name]
        if any(f'"{port}"' in icc_off for port in ports):
            spec["icc"] = False
        if spec:
            found[bridge.network] = spec
    return found


def network_orders(state: HostState) -> list[list[str]]:
    """The networks in the order each of the table's per-bridge rule lists has them
    (rules.py writes each in the order of the file's `networks`): the masquerades, the
    internal networks' drops, and the `icc: false` drops of the bridge table."""
    networks = {r.name: r.network for r in state.resources.values() if isinstance(r, Bridge)}
    ports = {r.peer: r.bridge for r in state.resources.values() if isinstance(r, Veth)}
    masquerades = [match["bridge"] for rule in _rules(state, "inet")
                   if (match := _MASQUERADE.fullmatch(rule)) is not None]
    internal = [match["bridge"] for rule in _rules(state, "inet")
                if (match := _INTERNAL.fullmatch(rule)) is not None]
    icc_off = [ports.get(match["port"], "") for rule in _rules(state, "bridge")
               if (match := _QUOTED.search(rule)) is not None]  # a port of the bridge
    return [[networks[bridge] for bridge in order if bridge in networks]
            for order in (masquerades, internal, icc_off)]


_MASQUERADE = re.compile(r'postrouting: ip saddr \S+ oifname != "(?P<bridge>[^"]+)" masquerade')
_QUOTED = re.compile(r'"(?P<port>[^"]+)"')
_INTERNAL = re.compile(r'forward: iifname "(?P<bridge>[^"]+)" oifname != "(?P=bridge)" drop')


def published_ports(state: HostState) -> dict[str, list[str]]:
    """Container → its published ports, from the DNAT rules of the output chain."""
    found: dict[str, list[str]] = {}
    for container, mapping in published(state):
        if container is not None:
            found.setdefault(container, []).append(str(mapping))
    return found


def published(state: HostState) -> Iterator[tuple[str | None, PortMapping]]:
    """Each published port of the state's inet table, with the container whose address
    it goes to (None when no namespace of the state has that address)."""
    owners = {
        str(IPv4Interface(r.cidr).ip): r.netns
        for r in state.resources.values()
        if isinstance(r, Address) and r.netns and ":" not in r.cidr
    }
    for rule in _rules(state, "inet"):
        match = PUBLISHED.fullmatch(rule)
        if match is not None:
            host_ip = IPv4Address(match["ip"]) if match["ip"] else None
            mapping = PortMapping(int(match["port"]), match["proto"], int(match["to"]), host_ip)
            yield owners.get(match["addr"]), mapping


def _rules(state: HostState, family: str) -> list[str]:
    return [rule for table in state.resources.values()
            if isinstance(table, NftTable) and table.family == family for rule in table.rules]
