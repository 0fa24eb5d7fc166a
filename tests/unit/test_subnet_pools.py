"""Subnets from Docker's default pools, table-driven: explicit subnets taken first, then
the subnets networks have now (sticky), then the first free pool in file order, never
one the host routes elsewhere nor one Docker reserves there (Facts.reserved: kept out of
the pools, but no reason to move a network that has its subnet); an overlay's free on all
its hosts."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Network
from typing import Any

import pytest

from netplan import subnet_pools
from netplan.agent.resources import ROOT, Address, Bridge, Veth
from netplan.agent.state import Facts, HostState, Underlay
from netplan.compile import compile_topology
from netplan.errors import TopologyError
from netplan.subnet_pools import (
    PoolsExhaustedError,
    Scope,
    Taken,
    Wanted,
    choose_subnets,
    observed_subnets,
    pools,
    with_pool_subnets,
)
from netplan.topology.model import Topology

N = IPv4Network


def bridge(name: str, current: str | None = None, host: str = "local") -> Wanted:
    return Wanted(name, "local", (host,), None if current is None else N(current))


def overlay(name: str, hosts: tuple[str, ...], current: str | None = None) -> Wanted:
    return Wanted(name, "global", hosts, None if current is None else N(current))


def test_the_pools_are_dockers_in_order() -> None:
    local = [str(p) for p in pools("local")]
    assert local[:3] == ["172.17.0.0/16", "172.18.0.0/16", "172.19.0.0/16"]
    assert local[14:17] == ["172.31.0.0/16", "192.168.0.0/20", "192.168.16.0/20"]
    assert len(local) == 15 + 16
    global_scope = pools("global")
    assert [str(next(global_scope)) for _ in range(2)] == ["10.0.0.0/24", "10.0.1.0/24"]


CASES = [
    pytest.param([bridge("a"), bridge("b")], [], {},
                 {"a": "172.17.0.0/16", "b": "172.18.0.0/16"}, id="file-order"),
    pytest.param([bridge("a"), bridge("b")], ["172.17.0.0/24"], {},
                 {"a": "172.18.0.0/16", "b": "172.19.0.0/16"}, id="explicit-taken-first"),
    pytest.param([bridge("new"), bridge("old", "172.17.0.0/16")], [], {},
                 {"new": "172.18.0.0/16", "old": "172.17.0.0/16"}, id="sticky-kept-above"),
    pytest.param([bridge("a", "10.9.0.0/24")], [], {},
                 {"a": "10.9.0.0/24"}, id="sticky-outside-the-pools"),
    pytest.param([bridge("a", "172.17.0.0/16"), bridge("b")], ["172.17.5.0/24"], {},
                 {"a": "172.18.0.0/16", "b": "172.19.0.0/16"}, id="sticky-moves-off-explicit"),
    pytest.param([bridge("a", "172.20.0.0/16"), bridge("b", "172.20.0.0/16")], [], {},
                 {"a": "172.20.0.0/16", "b": "172.17.0.0/16"}, id="sticky-first-in-file-wins"),
    pytest.param([bridge("a", "172.17.0.0/16")], [], {"local": ["172.17.0.1/16"]},
                 {"a": "172.18.0.0/16"}, id="sticky-moves-off-host-prefix"),
    pytest.param([bridge("a"), bridge("b")], [], {"local": ["172.17.0.1/16", "172.19.3.4/24"]},
                 {"a": "172.18.0.0/16", "b": "172.20.0.0/16"}, id="host-prefix-skipped"),
    pytest.param([bridge("a", host="h2")], [], {"h1": ["172.17.0.1/16"]},
                 {"a": "172.17.0.0/16"}, id="other-hosts-prefix-ignored"),
    pytest.param([overlay("o", ("h1", "h2")), overlay("p", ("h1",))], [],
                 {"h2": ["10.0.0.5/24"], "h1": ["10.0.2.0/23"]},
                 {"o": "10.0.1.0/24", "p": "10.0.0.0/24"}, id="overlay-free-on-every-host"),
    pytest.param([bridge("a"), overlay("o", ("local",))], ["10.0.0.0/24"], {},
                 {"a": "172.17.0.0/16", "o": "10.0.1.0/24"}, id="overlay-global-scope"),
    pytest.param([bridge("a", host="h1"), bridge("b", host="h2")], [], {},
                 {"a": "172.17.0.0/16", "b": "172.18.0.0/16"}, id="one-subnet-each-across-hosts"),
    pytest.param([bridge("a")], [], {"local": ["172.16.0.0/12"]},
                 {"a": "192.168.0.0/20"}, id="on-to-192.168"),
]


RESERVED_CASES = [
    pytest.param([bridge("a")], {"local": ["172.17.0.0/16"]},
                 {"a": "172.18.0.0/16"}, id="on-link-route-skipped"),
    pytest.param([bridge("a")], {"local": ["172.17.0.0/16", "172.18.0.10/32"]},
                 {"a": "172.19.0.0/16"}, id="nameserver-skipped-too"),
    pytest.param([bridge("a", "172.17.0.0/16"), bridge("b")], {"local": ["172.17.0.0/16"]},
                 {"a": "172.17.0.0/16", "b": "172.18.0.0/16"}, id="current-kept-never-renumbered"),
    pytest.param([bridge("a", host="h2")], {"h1": ["172.17.0.0/16"]},
                 {"a": "172.17.0.0/16"}, id="other-hosts-reserved-ignored"),
    pytest.param([overlay("o", ("h1", "h2"))], {"h2": ["10.0.0.0/23"]},
                 {"o": "10.0.2.0/24"}, id="overlay-free-of-every-hosts-reserved"),
    pytest.param([bridge("a"), bridge("b")], {"local": ["172.18.0.0/15"]},
                 {"a": "172.17.0.0/16", "b": "172.20.0.0/16"}, id="wider-than-a-pool"),
]


@pytest.mark.parametrize(("wanted", "reserved", "expected"), RESERVED_CASES)
def test_choose_subnets_keeps_reserved_out_of_the_pools(
    wanted: list[Wanted], reserved: dict[str, list[str]], expected: dict[str, str]
) -> None:
    by_host = {h: [N(p) for p in ps] for h, ps in reserved.items()}
    chosen = choose_subnets(wanted, [], {}, by_host)
    assert {name: str(subnet) for name, subnet in chosen.items()} == expected


def test_reserved_and_host_prefixes_together() -> None:
    host_prefix = N("172.17.0.1/16", strict=False)
    chosen = choose_subnets([bridge("a"), bridge("b")], [], {"local": [host_prefix]},
                            {"local": [N("172.18.0.0/16")]})
    assert {n: str(s) for n, s in chosen.items()} == {"a": "172.19.0.0/16", "b": "172.20.0.0/16"}


@pytest.mark.parametrize(("wanted", "explicit", "prefixes", "expected"), CASES)
def test_choose_subnets(wanted: list[Wanted], explicit: list[str],
                        prefixes: dict[str, list[str]], expected: dict[str, str]) -> None:
    host_prefixes = {h: [N(p, strict=False) for p in ps] for h, ps in prefixes.items()}
    chosen = choose_subnets(wanted, [N(s) for s in explicit], host_prefixes)
    assert {name: str(subnet) for name, subnet in chosen.items()} == expected
    assert list(chosen) == [w.name for w in wanted]


def test_exhausted() -> None:
    wanted = [bridge(f"n{i}") for i in range(32)]
    with pytest.raises(PoolsExhaustedError, match="'n31'"):
        choose_subnets(wanted, [], {})
    with pytest.raises(PoolsExhaustedError, match="'a'"):
        choose_subnets([bridge("a")], [N("172.16.0.0/12"), N("192.168.0.0/16")], {})


def test_a_thousand_overlays_look_at_each_pool_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """O(networks): each scope's pools are walked once per set of hosts, not again for
    every network."""
    looked: list[IPv4Network] = []

    def counted(scope: Scope) -> Iterator[IPv4Network]:
        for pool in pools(scope):
            looked.append(pool)
            yield pool

    monkeypatch.setattr(subnet_pools, "pools", counted)
    wanted = [overlay(f"o{i}", ("h1",)) for i in range(1000)]
    chosen = choose_subnets(wanted, [N("10.0.3.0/24")], {"h1": [N("10.0.5.0/24")]})
    assert [str(chosen[n]) for n in ("o0", "o3", "o4")] == ["10.0.0.0/24", "10.0.4.0/24",
                                                            "10.0.6.0/24"]
    assert len(set(chosen.values())) == 1000
    assert len(looked) == 1002


@pytest.mark.parametrize(("added", "query", "overlaps"), [
    pytest.param(["10.0.0.0/24", "10.0.2.0/24"], "10.0.1.0/24", False, id="between"),
    pytest.param(["10.0.0.0/24", "10.0.2.0/24"], "10.0.0.0/16", True, id="covers"),
    pytest.param(["10.0.0.0/24", "10.0.1.0/24", "10.0.0.0/23"], "10.0.1.128/25", True, id="merged"),
    pytest.param(["10.0.0.0/8"], "10.3.0.0/24", True, id="inside"),
    pytest.param(["10.0.0.0/8"], "11.0.0.0/24", False, id="after"),
])
def test_taken(added: list[str], query: str, overlaps: bool) -> None:
    assert Taken([N(s) for s in added]).overlaps(N(query)) is overlaps


def test_observed_subnets_from_the_bridge_else_a_container() -> None:
    state = HostState()
    state.add(Bridge("br-a", "a"))
    state.add(Address(ROOT, "br-a", "172.18.0.1/16"))
    state.add(Bridge("br-o", "o"))  # an overlay's bridge holds no address
    state.add(Veth("web", "eth0", "vethx", "br-o", "web", "o"))
    state.add(Address("web", "eth0", "10.0.4.2/24"))
    assert observed_subnets(state, {"a", "o"}) == {"a": N("172.18.0.0/16"), "o": N("10.0.4.0/24")}
    assert observed_subnets(state, {"o"}) == {"o": N("10.0.4.0/24")}


def topology(networks: dict[str, Any]) -> Topology:
    return Topology.model_validate({
        "name": "t", "networks": networks,
        "containers": {"web": {"networks": list(networks)}},
    })


def gateways(desired: HostState) -> dict[str, str]:
    return {r.dev: r.cidr for r in desired.resources.values()
            if isinstance(r, Address) and r.netns == ROOT}


def test_compile_gives_subnets_and_keeps_them_when_a_network_is_added_above() -> None:
    first = compile_topology(topology({"front": {}, "back": {}}), {"local": HostState()})["local"]
    assert gateways(first) == {"br-front": "172.17.0.1/16", "br-back": "172.18.0.1/16"}
    assert {r.cidr for r in first.resources.values()
            if isinstance(r, Address) and r.netns == "web"} == {"172.17.0.2/16", "172.18.0.2/16"}
    grown = topology({"new": {}, "front": {}, "back": {}})
    again = compile_topology(grown, {"local": first})["local"]
    assert gateways(again) == {"br-new": "172.19.0.1/16", "br-front": "172.17.0.1/16",
                               "br-back": "172.18.0.1/16"}


def test_compile_skips_the_hosts_own_prefixes() -> None:
    host = HostState(facts=Facts(prefixes={"172.17.0.1/16": "docker0"}))
    desired = compile_topology(topology({"front": {}}), {"local": host})["local"]
    assert gateways(desired) == {"br-front": "172.18.0.1/16"}


def test_compile_skips_what_docker_reserves_but_keeps_a_network_where_it_is() -> None:
    host = HostState(facts=Facts(reserved=("172.17.0.0/16", "172.18.0.10/32")))
    desired = compile_topology(topology({"front": {}}), {"local": host})["local"]
    assert gateways(desired) == {"br-front": "172.19.0.1/16"}
    vpn_later = HostState(resources=desired.resources,
                          facts=Facts(reserved=("172.19.0.0/16",)))
    again = compile_topology(topology({"front": {}}), {"local": vpn_later})["local"]
    assert gateways(again) == {"br-front": "172.19.0.1/16"}


def test_with_pool_subnets_leaves_a_file_with_every_subnet_as_it_is() -> None:
    given = topology({"front": {"subnet": "10.1.0.0/24"}})
    assert with_pool_subnets(given, {"local": HostState()}) is given


def test_exhausted_pools_are_one_problem_at_the_network() -> None:
    networks: dict[str, Any] = {f"n{i}": {} for i in range(32)}
    with pytest.raises(TopologyError) as caught:
        compile_topology(topology(networks), {"local": HostState()})
    [problem] = caught.value.problems
    assert problem.path == "networks.n31"
    assert "no free subnet left in Docker's local-scope default pools" in problem.message
    assert "subnet:" in problem.hint


def test_a_pool_subnet_too_small_is_one_problem_at_the_network() -> None:
    """An overlay's pool is a /24: 300 containers do not fit. The file has no `subnet:` to
    point at, so the problem is at the network and says where the subnet came from."""
    crowded = Topology.model_validate({
        "name": "t", "networks": {"over": {"driver": "overlay"}},
        "containers": {f"c{i:03}": {"networks": ["over"]} for i in range(300)},
    })
    with pytest.raises(TopologyError) as caught:
        compile_topology(crowded, {"local": HostState(facts=Facts(
            Underlay("ul0", "ul0", "192.0.2.1", 1500)))})
    [problem] = caught.value.problems
    assert problem.path == "networks.over"
    assert problem.message == (
        "network has no free addresses left: no free address left for container 'c254'; "
        "its subnet 10.0.0.0/24 is one of Docker's default pools")
    assert problem.hint == "give the network a `subnet:` large enough for its containers"


def test_compile_gives_an_overlay_a_subnet_free_on_all_its_hosts() -> None:
    spanning = Topology.model_validate({
        "name": "t", "hosts": ["a", "b"],
        "networks": {"over": {"driver": "overlay"}},
        "containers": {"web": {"host": "a", "networks": ["over"]},
                       "db": {"host": "b", "networks": ["over"]}},
    })
    observed = {host: HostState(facts=Facts(Underlay("ul0", "ul0", f"192.0.2.{n}", 1500),
                                            prefixes=prefixes))
                for n, (host, prefixes) in enumerate((("a", {}), ("b", {"10.0.0.7/24": "eth1"})))}
    desired = compile_topology(spanning, observed)
    assert [r.cidr for host in ("a", "b") for r in desired[host].resources.values()
            if isinstance(r, Address)] == ["10.0.1.1/24", "10.0.1.2/24"]
