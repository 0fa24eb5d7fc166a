"""Creating: what the kernel then has (seen by `ip -j`) and what observe() reports."""

from __future__ import annotations

from netplan.agent.api import observe
from netplan.agent.resources import (
    ROOT,
    Address,
    Netns,
    Route,
    bridge_marker,
    netns_marker,
    veth_marker,
)
from tests.kernel.kernel_helpers import (
    GATEWAY,
    addresses,
    container,
    create,
    ip,
    keyed,
    link,
    netns_names,
    network,
    owned,
    run_json,
)


def test_a_container_on_a_bridge_is_observed_exactly_as_desired(topology: str) -> None:
    wanted = [*network(), *container("c0", host=2), *container("c1", host=3)]
    create(topology, *wanted)
    assert owned(topology) == keyed(*wanted)  # a second plan would be empty


def test_without_the_root_namespace_a_container_is_observed_as_with_it(topology: str) -> None:
    """Its veth's host end and that port's bridge are read by index (plan/scope.py)."""
    root_side = [*network(), Route(ROOT, "10.99.0.0/24", "nbr0", "172.31.0.2")]
    create(topology, *root_side, *container("c0", host=2), *container("c1", host=3))
    scoped = observe(topology, inside=["c1"], root=False)
    assert scoped.resources == keyed(*container("c1", host=3))
    assert not any(key.startswith("link:/") for key in scoped.foreign)


def test_the_kernel_has_what_was_asked_for(topology: str) -> None:
    create(topology, *network(), *container("c0", host=2))
    assert "c0" in netns_names()
    lo = link("lo", netns="c0")
    assert "UP" in lo["flags"] and lo["ifalias"] == netns_marker(topology)
    eth0 = link("eth0", netns="c0")
    assert (eth0["address"], eth0["mtu"]) == ("02:00:ac:1f:00:02", 1500)
    assert "UP" in eth0["flags"]
    host_end = link("nvc0")
    assert host_end["master"] == "nbr0" and "UP" in host_end["flags"]
    assert host_end["ifalias"] == veth_marker(topology, "c0", "front")
    assert link("nbr0")["ifalias"] == bridge_marker(topology, "front")
    ports = run_json("bridge", "-j", "link")
    assert {p["ifname"]: p["master"] for p in ports} == {"nvc0": "nbr0"}
    assert addresses("eth0", netns="c0") == {"172.31.0.2/24"}
    assert addresses("nbr0") == {f"{GATEWAY}/24"}
    routes = ip("route", "show", "default", netns="c0")
    assert routes == [{"dst": "default", "gateway": GATEWAY, "dev": "eth0", "protocol": "77",
                       "flags": []}]


def test_no_ipv6_link_local_address_floods_the_bridge(topology: str) -> None:
    create(topology, *network(), *container("c0"))
    assert ip("-6", "addr", "show", "dev", "eth0", netns="c0") == []
    for dev in ("nvc0", "nbr0"):
        assert ip("-6", "addr", "show", "dev", dev) == []


def test_an_ipv6_address_asked_for_is_usable_at_once(topology: str) -> None:
    wanted = [*network(), *container("c0"), Address("c0", "eth0", "fd00:31::2/64")]
    create(topology, *wanted)
    info = ip("-6", "addr", "show", "dev", "eth0", netns="c0")[0]["addr_info"]
    assert [(a["local"], a.get("tentative", False)) for a in info] == [("fd00:31::2", False)]
    assert owned(topology) == keyed(*wanted)


def test_ipv4_and_ipv6_routes_of_a_namespace_are_observed_together(topology: str) -> None:
    wanted = [*network(), *container("c0"), Address("c0", "eth0", "fd00:31::2/64"),
              Route("c0", "::/0", "eth0", "fd00:31::1"),
              Route("c0", "10.99.0.0/24", "eth0", GATEWAY)]
    create(topology, *wanted)
    assert ip("-6", "route", "show", "default", netns="c0") == [
        {"dst": "default", "gateway": "fd00:31::1", "dev": "eth0", "protocol": "77",
         "metric": 1024, "flags": [], "pref": "medium"}]
    assert owned(topology) == keyed(*wanted)


def test_a_host_route_through_our_bridge_is_ours(topology: str) -> None:
    wanted = [*network(), *container("c0"), Route(ROOT, "10.99.0.0/24", "nbr0", "172.31.0.2")]
    create(topology, *wanted)
    assert ip("route", "show", "proto", "77") == [
        {"dst": "10.99.0.0/24", "gateway": "172.31.0.2", "dev": "nbr0", "flags": []}]
    assert owned(topology) == keyed(*wanted)


def test_a_namespace_can_keep_lo_down(topology: str) -> None:
    create(topology, Netns("c0", lo_up=False))
    assert "UP" not in link("lo", netns="c0")["flags"]
    assert owned(topology) == keyed(Netns("c0", lo_up=False))


def test_namespaces_are_visible_to_ip_netns_in_other_processes(topology: str) -> None:
    create(topology, Netns("c0"))
    assert "c0" in netns_names()
    mounts = run_json("findmnt", "-J", "-o", "TARGET,PROPAGATION", "/run/netns")
    # the last: the one on top (a sandbox in a sandbox, as a pytest-xdist worker's, has two)
    assert mounts["filesystems"][-1]["propagation"] == "shared"


def test_another_topology_does_not_see_these_objects_as_its_own(topology: str) -> None:
    create(topology, *network(), *container("c0"))
    other = observe(topology + "x")
    assert other.resources == {}
    whose = f"belongs to netplan topology '{topology}'"
    for key in ("netns:c0", "link:/nbr0", "link:/nvc0"):
        assert other.foreign[key] == whose
