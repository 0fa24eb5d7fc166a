"""Each resource kind's JSON (netplan/agent/resources.py, to_json's encoder made for its
fields): every field, tuples as lists, the compared ones only without `carried`, and
back to the same resource; and the address table a record keeps, read without parsing."""

from __future__ import annotations

from dataclasses import fields
from ipaddress import IPv4Address
from typing import Any

import pytest

from netplan.agent.resources import (
    RESOURCE_TYPES,
    Address,
    Bridge,
    BridgeFdb,
    Fdb,
    HostsFile,
    Macvlan,
    Neighbour,
    Netns,
    NftTable,
    Process,
    Resource,
    Route,
    StrayLink,
    Sysctl,
    Veth,
    Vlan,
    Vxlan,
    from_json,
    to_json,
)
from netplan.agent.state import HostState
from netplan.attachments import address_texts, current_addresses

SAMPLES: list[Resource] = [
    Netns("web", lo_up=False),
    Bridge("br0", "front", mtu=1450, mac="02:00:00:00:00:01"),
    Veth("web", "eth0", "vethweb", "br0", "web", "front", port_hairpin=True),
    Address("web", "eth0", "10.0.0.2/24"),
    Route("web", "default", "eth0", "10.0.0.1"),
    NftTable("inet", "netplan_t", ("filter: type filter hook forward priority 0",),
             ("filter: accept", "filter: drop")),
    Sysctl("net.ipv4.ip_forward", "1"),
    Vxlan("vx0", "over", 4096, "192.0.2.1", "eth1", "br1"),
    Fdb("vx0", "00:00:00:00:00:00", "192.0.2.2"),
    BridgeFdb("br1", "vx0", "02:00:00:00:00:02"),
    Neighbour("vx0", "10.1.0.3", "02:00:00:00:00:03"),
    Macvlan("web", "eth1", "eth1", "bridge", "web", "lan", mtu=1400),
    Vlan("eth1.10", "lan", "eth1", 10),
    StrayLink("veth9", "veth", "its other end is in no namespace of the topology"),
    Process("web", "web", ("sleep", "infinity"), env=("A=1",), volumes=("/srv:/srv:ro",)),
    HostsFile("web", "10.0.0.2 web\n"),
]


def _field_by_field(resource: Resource, carried: bool) -> dict[str, Any]:
    """What to_json gives, written the slow way."""
    data: dict[str, Any] = {"kind": resource.KIND}
    for f in fields(resource):  # type: ignore[arg-type]
        if carried or f.compare:
            value = getattr(resource, f.name)
            data[f.name] = list(value) if isinstance(value, tuple) else value
    return data


def test_every_kind_has_a_sample() -> None:
    assert {type(r) for r in SAMPLES} == set(RESOURCE_TYPES.values())


@pytest.mark.parametrize("resource", SAMPLES, ids=lambda r: r.KIND)
@pytest.mark.parametrize("carried", [True, False], ids=["carried", "compared"])
def test_to_json_is_every_field_and_decodes_back(resource: Resource, carried: bool) -> None:
    data = to_json(resource, carried)
    assert data == _field_by_field(resource, carried)
    assert list(data) == list(_field_by_field(resource, carried))
    if carried:
        assert from_json(data) == resource


def test_the_address_table_is_the_parsed_addresses_as_text() -> None:
    state = HostState()
    for resource in (Veth("web", "eth0", "vethweb", "br0", "web", "front"),
                     Address("web", "eth0", "fd00::2/64"), Address("web", "eth0", "10.0.0.2/24"),
                     Macvlan("db", "eth1", "eth1", "bridge", "db", "lan"),
                     Address("db", "eth1", "192.168.1.20/24"),
                     Veth("idle", "eth0", "vethidle", "br0", "idle", "front")):  # fmt: skip
        state.add(resource)
    texts = address_texts(state)
    assert texts == {("web", "front"): "10.0.0.2", ("db", "lan"): "192.168.1.20"}
    assert {k: IPv4Address(v) for k, v in texts.items()} == current_addresses(state)
