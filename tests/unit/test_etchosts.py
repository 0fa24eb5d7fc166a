"""Hosts files rendered from a topology and its addresses (pure): who resolves whom, at
which address, and where each file goes."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

import pytest

from netplan.agent.resources import HostsFile, text_of
from netplan.agent.state import Facts, HostState, Underlay
from netplan.compile import compile_topology
from netplan.etchosts import LOCALHOST, render
from netplan.topology.model import Topology

NAMES = {
    "networks": {"front": {"subnet": "10.61.0.0/24"}, "back": {"subnet": "10.62.0.0/24"}},
    "containers": {
        "web": {"networks": ["front", "back"]},
        "db": {"networks": {"back": {"aliases": ["database"]}}},
        "cache": {"networks": {"front": {"aliases": ["redis"]}}},
        "metrics": {"network_mode": "container:web"},
        "tools": {"network_mode": "host"},
        "alone": {"network_mode": "none"},
    },
}
NAMES_ADDRESSES = {("web", "front"): "10.61.0.2", ("web", "back"): "10.62.0.2",
                   ("db", "back"): "10.62.0.3", ("cache", "front"): "10.61.0.3"}

CASES: dict[str, tuple[dict[str, Any], dict[tuple[str, str], str], dict[str, list[str]]]] = {
    "each network's containers, at their address there, itself among them": (
        NAMES, NAMES_ADDRESSES, {
            "web": ["10.61.0.2 web", "10.61.0.3 cache redis",
                    "10.62.0.2 web", "10.62.0.3 db database"],
            "db": ["10.62.0.2 web", "10.62.0.3 db database"],
            "cache": ["10.61.0.2 web", "10.61.0.3 cache redis"],
            "alone": [],
        }),
    "a peer met on two networks twice, the first network's address first": ({
        "networks": {"a": {"subnet": "10.1.0.0/24"}, "b": {"subnet": "10.2.0.0/24"}},
        "containers": {"x": {"networks": ["b", "a"]},
                       "y": {"networks": {"a": {"aliases": ["why"]}, "b": {}}}},
    }, {("x", "a"): "10.1.0.2", ("x", "b"): "10.2.0.2",
        ("y", "a"): "10.1.0.3", ("y", "b"): "10.2.0.3"}, {
        "x": ["10.2.0.2 x", "10.2.0.3 y", "10.1.0.2 x", "10.1.0.3 y why"],
        "y": ["10.1.0.2 x", "10.1.0.3 y why", "10.2.0.2 x", "10.2.0.3 y"],
    }),
    "a hostname: its own lines first, as Docker writes them, then the others": ({
        "networks": {"a": {"subnet": "10.1.0.0/24"}, "b": {"subnet": "10.2.0.0/24"}},
        "containers": {"web": {"hostname": "www.example", "networks": {
            "a": {"aliases": ["www"]}, "b": {"aliases": ["api"]}}},
                       "db": {"networks": ["a"]}},
    }, {("web", "a"): "10.1.0.2", ("web", "b"): "10.2.0.2", ("db", "a"): "10.1.0.3"}, {
        "web": ["10.1.0.2 web www.example www", "10.2.0.2 api", "10.1.0.3 db"],
        "db": ["10.1.0.2 web www", "10.1.0.3 db"],
    }),
    "any driver: macvlan attachments resolve like bridge ones": ({
        "networks": {"lan": {"driver": "macvlan", "parent": "eth0",
                             "subnet": "192.168.77.0/24"}},
        "containers": {"a": {"networks": ["lan"]}, "b": {"networks": ["lan"]}},
    }, {("a", "lan"): "192.168.77.1", ("b", "lan"): "192.168.77.2"}, {
        "a": ["192.168.77.1 a", "192.168.77.2 b"],
        "b": ["192.168.77.1 a", "192.168.77.2 b"],
    }),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_render(case: str) -> None:
    spec, addresses, expected = CASES[case]
    topology = Topology.model_validate({"name": "t", **spec})
    files = render(topology, {k: IPv4Address(v) for k, v in addresses.items()})
    assert files == {name: text_of((*LOCALHOST, *lines)) for name, lines in expected.items()}


def test_compiled_on_each_containers_host_with_the_central_addresses() -> None:
    """An overlay's containers on other hosts are listed; each file lives on its own
    container's host, and addresses come from the same IPAM as the links."""
    topology = Topology.model_validate({
        "name": "t",
        "hosts": ["hostA", "hostB"],
        "networks": {"ov": {"driver": "overlay", "subnet": "10.88.0.0/24"}},
        "containers": {"c1": {"host": "hostA", "networks": ["ov"]},
                       "c2": {"host": "hostB", "networks": {"ov": {"aliases": ["two"]}}}},
    })
    observed = {name: HostState(facts=Facts(Underlay("ul0", "ul0", vtep, 1500)))
                for name, vtep in (("hostA", "192.168.56.11"), ("hostB", "192.168.56.12"))}
    desired = compile_topology(topology, observed)
    on_a = [r for r in desired["hostA"].resources.values() if isinstance(r, HostsFile)]
    assert on_a == [HostsFile("c1", text_of((*LOCALHOST, "10.88.0.1 c1", "10.88.0.2 c2 two")))]
    assert "addr:c2/eth0/10.88.0.2/24" in desired["hostB"].resources
    assert desired["hostB"].resources["hosts:c2"] == HostsFile(
        "c2", text_of((*LOCALHOST, "10.88.0.1 c1", "10.88.0.2 c2 two")))


def test_containers_on_the_same_networks_share_one_text() -> None:
    """The same str object (the agent writes it once and links the others to it);
    another order of the same networks, or a hostname, is another text."""
    topology = Topology.model_validate({"name": "t", **NAMES, "containers": {
        "a": {"networks": ["front", "back"]}, "b": {"networks": ["front", "back"]},
        "c": {"networks": ["back", "front"]}, "d": {"networks": ["front", "back"],
                                               "hostname": "dee"}}})
    addresses = {(name, network): IPv4Address(f"10.6{1 + (network == 'back')}.0.{i + 2}")
                 for i, name in enumerate("abcd") for network in ("front", "back")}
    files = render(topology, addresses)
    assert files["a"] is files["b"]
    assert len({files[name] for name in "abcd"}) == 3
