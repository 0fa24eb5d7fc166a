"""The agent's macvlan kind on the real kernel: made inside the namespace on a root
parent, observed back in the desired shape, changed in place, deleted; the parent's
facts. (VLAN parents need 802.1Q support: tests/e2e/test_macvlan.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from netplan.agent.api import observe
from netplan.agent.resources import Address, Macvlan, Netns, Route
from tests.kernel.kernel_helpers import create, delete, ip, keyed, link, owned, sh, update

PARENT = "kmv0"


@pytest.fixture
def parent() -> Iterator[str]:
    sh(f"ip link add {PARENT} type veth peer name kmv0p && ip link set {PARENT} up")
    yield PARENT
    sh(f"ip link del {PARENT}")


def container(ns: str, mode: str = "bridge") -> list[Netns | Macvlan | Address | Route]:
    return [
        Netns(ns),
        Macvlan(ns, "eth0", PARENT, mode, ns, "lan", "02:42:c0:a8:4d:0a", 1500),
        Address(ns, "eth0", "192.168.77.10/24"),
        Route(ns, "default", "eth0", "192.168.77.1"),
    ]


def test_made_inside_the_namespace_and_observed_as_desired(topology: str, parent: str) -> None:
    wanted = container("m0", "vepa")
    create(topology, *wanted)
    eth0 = ip("-d", "link", "show", "dev", "eth0", netns="m0")[0]
    assert eth0["linkinfo"]["info_kind"] == "macvlan"
    assert eth0["linkinfo"]["info_data"]["mode"] == "vepa"
    assert eth0["address"] == "02:42:c0:a8:4d:0a"
    assert eth0["ifalias"] == f"netplan:{topology}:lan:m0"
    assert eth0["link_index"] == link(parent)["ifindex"]
    assert "UP" in eth0["flags"]
    assert owned(topology) == keyed(*wanted)  # a second plan is empty
    assert observe(topology).foreign[f"link:/{PARENT}"] == "is not managed by netplan"
    assert observe(topology, inside=["m0"], root=False).resources == keyed(*wanted)


def test_mac_mtu_and_network_change_in_place(topology: str, parent: str) -> None:
    wanted = container("m1")
    create(topology, *wanted)
    index = ip("link", "show", "dev", "eth0", netns="m1")[0]["ifindex"]
    old = wanted[1]
    assert isinstance(old, Macvlan)
    new = replace(old, mac="02:42:c0:a8:4d:63", mtu=1400, network="wan")
    update(topology, new, "mac", "mtu", "network")
    eth0 = link("eth0", netns="m1")
    assert (eth0["ifindex"], eth0["address"], eth0["mtu"]) == (index, "02:42:c0:a8:4d:63", 1400)
    assert owned(topology) == keyed(*[new if r == old else r for r in wanted])


def test_deleted_alone_the_namespace_stays(topology: str, parent: str) -> None:
    wanted = container("m2")
    create(topology, *wanted)
    delete(topology, wanted[1])
    assert owned(topology) == keyed(wanted[0])
    assert link(parent)["ifname"] == PARENT


def test_facts_report_the_parents_that_exist(parent: str) -> None:
    facts = observe("kfacts", interfaces=[PARENT, "nosuch0"]).facts
    assert list(facts.interfaces) == [PARENT]
    assert facts.interfaces[PARENT].kind == "veth" and facts.interfaces[PARENT].up
