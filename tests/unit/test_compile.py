"""Topology → desired state: names, addresses, MACs, routes, and stickiness."""

from __future__ import annotations

from typing import Any

import pytest

from netplan.agent.resources import BRIDGE_GROUP, Address, Bridge, Netns, Route, Veth
from netplan.agent.state import HostState
from netplan.compile import compile_topology
from netplan.errors import TopologyError
from netplan.topology.model import Topology
from netplan.topology.names import bridge_mac, veth_name


def topology(**spec: Any) -> Topology:
    return Topology.model_validate({"name": "t", **spec})


DEFAULT_BRIDGE = {
    "networks": {"bridge": {"bridge": "docker0", "subnet": "172.17.0.0/16"}},
    "containers": {"alpine1": {"networks": ["bridge"]}, "alpine2": {"networks": ["bridge"]}},
}


def test_default_bridge_is_compiled_like_docker() -> None:
    state = compile_topology(topology(**DEFAULT_BRIDGE), {"local": HostState()})["local"]
    r = state.resources
    assert r["link:/docker0"] == Bridge("docker0", "bridge", 1500,
                                        mac=bridge_mac("t", "bridge", "local"),
                                        group=BRIDGE_GROUP)
    assert r["addr:/docker0/172.17.0.1/16"] == Address("", "docker0", "172.17.0.1/16")
    assert r["netns:alpine1"] == Netns("alpine1")
    assert r["link:alpine1/eth0"] == Veth(
        "alpine1",
        "eth0",
        veth_name("t", "alpine1", "bridge"),
        "docker0",
        "alpine1",
        "bridge",
        "02:42:ac:11:00:02",
        1500,
        1500,
    )
    assert "addr:alpine2/eth0/172.17.0.3/16" in r
    assert r["route:alpine1/default"] == Route("alpine1", "default", "eth0", "172.17.0.1")


@pytest.mark.parametrize(("mtu", "expected"), [(None, 1500), (1400, 1400), (9000, 9000)])
def test_a_bridge_and_both_ends_of_its_veths_get_the_networks_mtu(
    mtu: int | None, expected: int
) -> None:
    """Docker's bridge driver sets its MTU (1500 unless given) on the bridge and the veths,
    so each is compared with the host's (nothing is left to the kernel)."""
    network: dict[str, Any] = {"subnet": "10.0.0.0/24"} | ({"mtu": mtu} if mtu else {})
    spec = {"networks": {"n": network}, "containers": {"a": {"networks": ["n"]}}}
    state = compile_topology(topology(**spec), {"local": HostState()})["local"]
    bridge, veth = state.resources["link:/br-n"], state.resources["link:a/eth0"]
    assert isinstance(bridge, Bridge) and isinstance(veth, Veth)
    assert (bridge.mtu, veth.mtu, veth.peer_mtu) == (expected, expected, expected)


def test_second_network_is_eth1_and_has_no_default_route() -> None:
    topo = topology(
        networks={"a": {"subnet": "10.1.0.0/24"}, "b": {"subnet": "10.2.0.0/24", "mtu": 1400}},
        containers={
            "c": {"networks": {"a": {}, "b": {"ipv4": "10.2.0.9", "mac": "02:00:00:00:00:09"}}}
        },
    )
    r = compile_topology(topo, {"local": HostState()})["local"].resources
    eth1 = r["link:c/eth1"]
    assert isinstance(eth1, Veth)
    assert (eth1.network, eth1.mtu, eth1.mac) == ("b", 1400, "02:00:00:00:00:09")
    assert "addr:c/eth1/10.2.0.9/24" in r
    assert [k for k in r if k.startswith("route:")] == ["route:c/default"]


@pytest.mark.parametrize(
    ("mode", "has_netns"),
    [("none", True), ("host", False), ("container:web", False)],
)
def test_network_modes(mode: str, has_netns: bool) -> None:
    topo = topology(
        networks={"n": {"subnet": "10.0.0.0/24"}},
        containers={"web": {"networks": ["n"]}, "x": {"network_mode": mode}},
    )
    r = compile_topology(topo, {"local": HostState()})["local"].resources
    assert ("netns:x" in r) is has_netns
    assert not any(k.startswith("link:x/") for k in r)


def test_addresses_stick_when_the_file_grows_and_reorders() -> None:
    first = compile_topology(topology(**DEFAULT_BRIDGE), {"local": HostState()})
    grown = topology(
        networks=DEFAULT_BRIDGE["networks"],
        containers={
            "new": {"networks": ["bridge"]},
            "alpine2": {"networks": ["bridge"]},
            "alpine1": {"networks": ["bridge"]},
        },
    )
    r = compile_topology(grown, first)["local"].resources
    assert "addr:alpine1/eth0/172.17.0.2/16" in r
    assert "addr:alpine2/eth0/172.17.0.3/16" in r
    assert "addr:new/eth0/172.17.0.4/16" in r


def test_a_full_network_is_a_topology_error() -> None:
    topo = topology(
        networks={"n": {"subnet": "10.0.0.0/30"}},
        containers={"a": {"networks": ["n"]}, "b": {"networks": ["n"]}},
    )
    with pytest.raises(TopologyError, match="no free addresses"):
        compile_topology(topo, {"local": HostState()})


def test_veth_names_fit_the_kernel_limit() -> None:
    assert len(veth_name("t" * 63, "c" * 63, "n" * 63).encode()) <= 15
