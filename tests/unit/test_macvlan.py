"""The macvlan driver without a kernel: checks, compile (parents from the host's facts),
sticky addresses, published ports ignored, and the facts' JSON."""

from __future__ import annotations

from typing import Any

import pytest

from netplan.agent.api import handle
from netplan.agent.resources import Address, Macvlan, Netns, NftTable, Route, Vlan
from netplan.agent.state import PROTOCOL_VERSION, Facts, HostState, Interface
from netplan.compile import compile_topology
from netplan.drivers.macvlan import interfaces_of, vlan_of
from netplan.errors import TopologyError
from netplan.show import observed_topology
from netplan.topology.checks import check_topology, topology_warnings
from netplan.topology.model import Topology

LAN = {"driver": "macvlan", "parent": "eth1", "subnet": "192.168.1.0/24",
       "gateway": "192.168.1.1"}


def topology(**spec: Any) -> Topology:
    return Topology.model_validate({"name": "t", **spec})


def host(*names: str, vlan_support: bool = True, mtu: int = 1500,
         resources: tuple[Any, ...] = ()) -> HostState:
    state = HostState(facts=Facts(
        interfaces={name: Interface("", mtu, True) for name in names},
        vlan_support=vlan_support,
    ))
    for resource in resources:
        state.add(resource)
    return state


def compiled(spec: dict[str, Any], observed: HostState) -> dict[str, Any]:
    return compile_topology(topology(**spec), {"local": observed})["local"].resources


def test_container_gets_a_macvlan_address_mac_and_route_via_the_lan_router() -> None:
    r = compiled({"networks": {"lan": LAN}, "containers": {"web": {"networks": ["lan"]}}},
                 host("eth1"))
    assert r["link:web/eth0"] == Macvlan("web", "eth0", "eth1", "bridge", "web", "lan",
                                         "02:42:c0:a8:01:02")
    assert "addr:web/eth0/192.168.1.2/24" in r  # the gateway is kept out of the pool
    assert r["route:web/default"] == Route("web", "default", "eth0", "192.168.1.1")
    assert not [x for x in r.values() if isinstance(x, (Vlan, NftTable))]  # no NAT, no rules


def test_without_gateway_no_default_route_and_the_pool_starts_at_one() -> None:
    lan = {k: v for k, v in LAN.items() if k != "gateway"}
    r = compiled({"networks": {"lan": lan}, "containers": {"web": {"networks": ["lan"]}}},
                 host("eth1"))
    assert "addr:web/eth0/192.168.1.1/24" in r
    assert "route:web/default" not in r


def test_a_bridge_listed_first_keeps_the_default_route() -> None:
    spec = {"networks": {"front": {"subnet": "10.0.0.0/24"}, "lan": LAN},
            "containers": {"web": {"networks": ["front", "lan"]}}}
    r = compiled(spec, host("eth1"))
    assert r["route:web/default"].gateway == "10.0.0.1"
    assert r["link:web/eth1"].lower == "eth1"


def test_passthru_leaves_the_mac_to_the_parent() -> None:
    spec = {"networks": {"lan": {**LAN, "mode": "passthru"}},
            "containers": {"web": {"networks": ["lan"]}}}
    assert compiled(spec, host("eth1"))["link:web/eth0"].mac is None


def test_missing_parent_names_host_and_interface() -> None:
    spec = {"networks": {"lan": {**LAN, "parent": "nope0"}},
            "containers": {"web": {"networks": ["lan"]}}}
    with pytest.raises(TopologyError) as caught:
        compiled(spec, host("eth1"))
    [problem] = caught.value.problems
    assert problem.path == "networks.lan.parent"
    assert "host 'local' has no interface 'nope0'" in problem.message


@pytest.mark.parametrize(
    ("parent", "present", "vlan_support", "expected"),
    [
        pytest.param("eth1.10", ("eth1",), True, Vlan("eth1.10", "lan", "eth1", 10), id="made"),
        pytest.param("eth1.10", ("eth1", "eth1.10"), True, None, id="existing-is-used"),
        pytest.param("eth1.10", ("eth1",), False, "cannot make 802.1Q", id="no-8021q"),
        pytest.param("eth2.10", ("eth1",), True, "no interface 'eth2.10'", id="no-lower"),
        pytest.param("eth1.4095", ("eth1",), True, "no interface 'eth1.4095'", id="bad-id"),
    ],
)
def test_vlan_parents(parent: str, present: tuple[str, ...], vlan_support: bool,
                      expected: Vlan | str | None) -> None:
    spec = {"networks": {"lan": {**LAN, "parent": parent}},
            "containers": {"web": {"networks": ["lan"]}}}
    observed = host(*present, vlan_support=vlan_support)
    if isinstance(expected, str):
        with pytest.raises(TopologyError, match=expected.replace(".", r"\.")):
            compiled(spec, observed)
        return
    vlans = [x for x in compiled(spec, observed).values() if isinstance(x, Vlan)]
    assert vlans == ([expected] if expected else [])


def test_our_vlan_is_kept_even_though_the_host_reports_it_existing() -> None:
    ours = Vlan("eth1.10", "lan", "eth1", 10, 1500)
    spec = {"networks": {"lan": {**LAN, "parent": "eth1.10"}}}
    r = compiled(spec, host("eth1", "eth1.10", resources=(ours,)))
    assert r["link:/eth1.10"] == Vlan("eth1.10", "lan", "eth1", 10)


def test_mtu_above_the_parents_is_refused_before_anything_changes() -> None:
    spec = {"networks": {"lan": {**LAN, "mtu": 9000}}}
    with pytest.raises(TopologyError, match="has MTU 1500"):
        compiled(spec, host("eth1"))


def test_addresses_are_sticky_on_macvlans() -> None:
    observed = host("eth1", resources=(
        Macvlan("web", "eth0", "eth1", "bridge", "web", "lan", "02:42:c0:a8:01:09"),
        Address("web", "eth0", "192.168.1.9/24"),
    ))
    spec = {"networks": {"lan": LAN},
            "containers": {"db": {"networks": ["lan"]}, "web": {"networks": ["lan"]}}}
    r = compiled(spec, observed)
    assert "addr:web/eth0/192.168.1.9/24" in r
    assert "addr:db/eth0/192.168.1.2/24" in r


def test_published_ports_on_a_macvlan_warn_and_make_no_rules() -> None:
    spec = {"networks": {"lan": LAN},
            "containers": {"web": {"networks": ["lan"], "publish": ["8080:80"]}}}
    topo = topology(**spec)
    assert check_topology(topo) == []
    [warning] = topology_warnings(topo)
    assert warning.path == "containers.web.publish"
    assert "ignored on macvlan network 'lan'" in warning.message
    r = compile_topology(topo, {"local": host("eth1")})["local"].resources
    assert not [x for x in r.values() if isinstance(x, NftTable)]


def test_passthru_mac_is_refused() -> None:
    spec = {"networks": {"lan": {**LAN, "mode": "passthru"}},
            "containers": {"web": {"networks": {"lan": {"mac": "02:00:00:00:00:01"}}}}}
    [problem] = check_topology(topology(**spec))
    assert problem.path == "containers.web.networks.lan.mac"


def test_modes_other_than_passthru_may_share_a_parent() -> None:
    spec = {"networks": {"a": LAN, "b": {**LAN, "subnet": "192.168.2.0/24",
                                          "gateway": None, "mode": "private"}}}
    assert check_topology(topology(**spec)) == []


def test_the_agent_is_asked_about_each_parent_and_the_lower_of_a_vlan() -> None:
    spec = {"hosts": ["h1", "h2"], "networks": {
        "a": {**LAN, "host": "h1", "parent": "eth1.10"},
        "b": {**LAN, "host": "h1", "subnet": "192.168.2.0/24", "gateway": None},
        "c": {**LAN, "host": "h2", "subnet": "192.168.3.0/24", "gateway": None},
    }}
    assert interfaces_of(topology(**spec), "h1") == ["eth1.10", "eth1"]
    assert vlan_of("eth1.10") == ("eth1", 10)
    assert vlan_of("eth1") is None


def test_facts_round_trip_through_json() -> None:
    facts = Facts(interfaces={"eth1": Interface("", 1500, True)}, vlan_support=True)
    assert Facts.from_json(facts.to_json()) == facts
    assert Facts.from_json({}) == Facts()


def test_show_writes_macvlan_networks_back() -> None:
    observed = host(resources=(
        Macvlan("web", "eth0", "eth1", "private", "web", "lan", "02:42:c0:a8:01:02", 1500),
        Address("web", "eth0", "192.168.1.2/24"),
        Route("web", "default", "eth0", "192.168.1.1"),
    ))
    observed.add(Netns("web"))
    shown = observed_topology("t", {"local": observed})
    assert shown["networks"]["lan"] == {"driver": "macvlan", "parent": "eth1", "mode": "private",
                                        "subnet": "192.168.1.0/24", "gateway": "192.168.1.1"}
    assert shown["containers"]["web"] == {"networks": {"lan": {"ipv4": "192.168.1.2"}}}
    assert topology(**{k: v for k, v in shown.items() if k != "name"})


def test_interfaces_in_a_request_must_be_a_list_of_names() -> None:
    answer = handle({"version": PROTOCOL_VERSION, "op": "observe", "topology": "t",
                     "interfaces": "eth0"})
    assert not answer["ok"] and "'interfaces' must be a list" in answer["error"]["message"]
