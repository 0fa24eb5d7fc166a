"""The firewall, pure: topology in, nftables tables and sysctls out; and `nft -j` read
back into the same canonical text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from netplan.agent.firewall import canonical, script
from netplan.agent.resources import (
    BRIDGE_GROUP,
    IP_FORWARD,
    NftTable,
    Resource,
    Route,
    Sysctl,
    Veth,
    link_key,
)
from netplan.agent.state import HostState
from netplan.compile import compile_topology
from netplan.show import observed_topology
from netplan.topology.checks import topology_warnings
from netplan.topology.model import Topology

FIXTURES = Path(__file__).parents[1] / "fixtures" / "firewall"
NET = {"subnet": "10.0.0.0/24"}


def compiled(**spec: Any) -> dict[str, Resource]:
    topology = Topology.model_validate({"name": "t", **spec})
    return compile_topology(topology, {"local": HostState()})["local"].resources


def firewall(**spec: Any) -> dict[str, Resource]:
    return {k: r for k, r in compiled(**spec).items() if isinstance(r, NftTable | Sysctl)}


def rules(resources: dict[str, Resource], family: str = "inet") -> list[str]:
    table = resources[f"nft:{family}/netplan_t"]
    assert isinstance(table, NftTable)
    return list(table.rules)


def listing(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())["nftables"]
    return items


def test_what_nft_lists_reads_back_equal_to_what_is_rendered() -> None:
    spec = yaml.safe_load((FIXTURES / "every-rule.yaml").read_text())
    desired = compile_topology(Topology.model_validate(spec), {"local": HostState()})["local"]
    for family in ("inet", "bridge"):
        observed = canonical(family, "netplan_web", listing(f"every-rule.{family}.json"))
        assert desired.resources[observed.key] == observed


def test_default_bridge_masquerades_and_forwards() -> None:
    found = firewall(networks={"bridge": {"bridge": "docker0", "subnet": "172.17.0.0/16"}})
    assert rules(found)[0] == 'postrouting: ip saddr 172.17.0.0/16 oifname != "docker0" masquerade'
    assert found[f"sysctl:{IP_FORWARD}"] == Sysctl(IP_FORWARD, "1")
    assert sorted(found) == ["nft:inet/netplan_t", "sysctl:net.ipv4.ip_forward"]


def test_no_bridge_network_no_firewall() -> None:
    assert firewall(containers={"c": {"network_mode": "none"}}) == {}


def isolated(bridge: str) -> str:
    return f'forward: iifname "{bridge}" oifname != "{bridge}" oifgroup {BRIDGE_GROUP} drop'


INTERNAL = ['forward: iifname "br-int" oifname != "br-int" drop',
            'forward: oifname "br-int" iifname != "br-int" drop']


@pytest.mark.parametrize(("networks", "containers", "forward"), [
    pytest.param({"a": NET}, {}, ["forward: ct status dnat accept", isolated("br-a")],
                 id="one-bridge-from-other-topologies-bridges"),
    pytest.param({"a": {**NET, "nat": False}, "b": {"subnet": "10.0.1.0/24"}},
                 {"web": {"networks": ["a"], "publish": ["8080:80"]}},
                 ["forward: ct status dnat accept", isolated("br-a"), isolated("br-b")],
                 id="two-bridges-published-ports-cross"),
    pytest.param({"a": NET, "int": {"subnet": "10.0.1.0/24", "internal": True}}, {},
                 [*INTERNAL, "forward: ct status dnat accept", isolated("br-a")],
                 id="internal-first-then-dnat-then-drops"),
    pytest.param({"int": {**NET, "internal": True}}, {}, INTERNAL,
                 id="internal-only-needs-no-group-drop"),
    pytest.param({"b": NET, "a": {"subnet": "10.0.1.0/24"}}, {},
                 ["forward: ct status dnat accept", isolated("br-a"), isolated("br-b")],
                 id="drops-sorted-by-bridge"),
])
def test_bridges_are_isolated_from_every_bridge_netplan_made_but_not_from_published_ports(
        networks: dict[str, Any], containers: dict[str, Any], forward: list[str]) -> None:
    """Each topology drops what its own bridges route to any bridge in BRIDGE_GROUP (its
    own and other topologies'); DNAT'd traffic (published ports) is accepted first."""
    found = firewall(networks=networks, containers=containers)
    assert [r for r in rules(found) if r.startswith("forward")] == forward


def test_isolation_leaves_masquerade_to_nat_networks_only() -> None:
    found = firewall(
        networks={"a": {**NET, "nat": False}, "b": {"subnet": "10.0.1.0/24"}},
        containers={"web": {"networks": ["a"], "publish": ["8080:80"]}},
    )
    assert 'postrouting: ip saddr 10.0.1.0/24 oifname != "br-b" masquerade' in rules(found)
    assert not any("10.0.0.0/24" in r for r in rules(found))  # nat: false


def test_published_ports_from_outside_from_the_host_and_via_localhost() -> None:
    found = firewall(
        networks={"front": NET},
        containers={"web": {"networks": ["front"],
                            "publish": ["8080:80", "127.0.0.1:5353:53/udp"]}},
    )
    dnat = "fib daddr type local tcp dport 8080 dnat ip to 10.0.0.2:80"
    assert rules(found) == [
        f"prerouting: {dnat}",
        'input: iifname "br-front" ip daddr 127.0.0.0/8 ct state new drop',
        "output: ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.0.0.2:53",
        f"output: {dnat}",
        'postrouting: ip saddr 10.0.0.0/24 oifname != "br-front" masquerade',
        'postrouting: ip saddr 127.0.0.0/8 oifname "br-front" masquerade',
        'postrouting: ct status dnat iifname "br-front" oifname "br-front" masquerade',
        "forward: ct status dnat accept",
        isolated("br-front"),
    ]
    localnet = "net.ipv4.conf.br-front.route_localnet"
    assert found[f"sysctl:{localnet}"] == Sysctl(localnet, "1")


def test_internal_network_has_no_way_out_and_no_default_route() -> None:
    resources = compiled(
        networks={"front": NET, "int": {"subnet": "10.0.1.0/24", "internal": True}},
        containers={"db": {"networks": ["int"]}, "app": {"networks": ["int", "front"]}},
    )
    assert "route:db/default" not in resources
    assert resources["route:app/default"] == Route("app", "default", "eth1", "10.0.0.1")
    assert rules(resources)[-4:] == [*INTERNAL, "forward: ct status dnat accept",
                                     isolated("br-front")]
    assert not any("10.0.1.0/24" in r for r in rules(resources))


def test_icc_off_drops_between_the_ports_of_that_bridge_only() -> None:
    found = compiled(
        networks={"quiet": {**NET, "icc": False}, "loud": {"subnet": "10.0.1.0/24"}},
        containers={"a": {"networks": ["quiet", "loud"]}, "b": {"networks": ["quiet"]}},
    )
    ports = sorted(r.peer for r in found.values() if isinstance(r, Veth) and r.network == "quiet")
    listed = "{ " + ", ".join(f'"{port}"' for port in ports) + " }"
    assert rules(found, "bridge") == [f"forward: iifname {listed} oifname {listed} drop"]


def test_host_mode_ignores_published_ports_with_a_warning() -> None:
    spec = {"networks": {"front": NET},
            "containers": {"h": {"network_mode": "host", "publish": ["80:80"]}}}
    assert not any("dport" in r for r in rules(firewall(**spec)))
    [warning] = topology_warnings(Topology.model_validate({"name": "t", **spec}))
    assert warning.path == "containers.h.publish"
    assert "discarded in network_mode 'host'" in warning.message


def test_anything_netplan_does_not_write_reads_back_as_drift() -> None:
    items = listing("every-rule.bridge.json")
    rule = next(item for item in items if "rule" in item)
    rule["rule"]["expr"].insert(0, {"counter": {"packets": 0, "bytes": 0}})
    items.append({"set": {"family": "bridge", "table": "netplan_web", "name": "s"}})
    table = canonical("bridge", "netplan_web", items)
    assert table.rules[0].startswith('forward: {"counter": {"bytes": 0, "packets": 0}} iifname')
    assert table.rules[1].startswith('? {"set": ')


@pytest.mark.parametrize(("flags", "line"), [
    (0, None),
    (0x1, "? table flags dormant"),
    (0x3, "? table flags dormant,owner"),
    (0x10, "? table flags 0x10"),
])
def test_a_table_flag_reads_back_as_drift(flags: int, line: str | None) -> None:
    """A dormant table keeps its rules and evaluates none of them."""
    plain = canonical("inet", "netplan_web", listing("every-rule.inet.json"))
    flagged = canonical("inet", "netplan_web", listing("every-rule.inet.json"), flags)
    assert flagged.chains == plain.chains
    assert flagged.rules == (plain.rules if line is None else (*plain.rules, line))


def test_the_script_replaces_the_table_in_one_transaction() -> None:
    table = NftTable(
        "inet", "netplan_t",
        ("forward: type filter hook forward priority -10; policy accept",),
        ('forward: iifname "a" oifname "b" drop',),
    )
    assert script(table) == (
        "table inet netplan_t {}\n"
        "delete table inet netplan_t\n"
        "table inet netplan_t {\n"
        "\tchain forward {\n"
        "\t\ttype filter hook forward priority -10; policy accept;\n"
        '\t\tiifname "a" oifname "b" drop\n'
        "\t}\n"
        "}\n"
    )


def test_sysctls_belong_to_their_link_or_stay() -> None:
    dotted = Sysctl("net.ipv4.conf.br/x.route_localnet", "1")
    assert (dotted.dev, dotted.parent()) == ("br.x", link_key("", "br.x"))
    forward = Sysctl(IP_FORWARD, "1")
    assert (forward.dev, forward.parent()) == (None, None)
    assert "left as is on destroy" in forward.describe()


def test_show_writes_the_firewall_settings_back() -> None:
    """`show` of a compiled state is a topology that compiles to the same state."""
    spec = yaml.safe_load((FIXTURES / "every-rule.yaml").read_text())
    state = compile_topology(Topology.model_validate(spec), {"local": HostState()})["local"]
    shown = observed_topology("web", {"local": state})
    assert shown["networks"]["back"]["icc"] is False
    assert shown["networks"]["int"]["internal"] is True
    assert shown["containers"]["web"]["publish"][0] == "10.9.0.1:81:80/tcp"
    again = compile_topology(Topology.model_validate(shown), {"local": state})["local"]
    assert again.resources == state.resources
    plain = Topology.model_validate({"name": "t", "networks": {"a": {**NET, "nat": False}}})
    state = compile_topology(plain, {"local": HostState()})["local"]
    assert observed_topology("t", {"local": state})["networks"]["a"]["nat"] is False
