"""The desired state as a compile-cache entry keeps it (compile_cache.kept and made): field
tuples that, pickled and read back, make the same objects comparable() makes, and nothing
but resources."""

from __future__ import annotations

import pickle

import pytest

from netplan.agent.resources import (
    Address,
    Bridge,
    HostsFile,
    Lines,
    Netns,
    NftTable,
    Process,
    Resource,
    Route,
    Veth,
)
from netplan.agent.state import HostState
from netplan.compile_cache import comparable, kept, made

RESOURCES: dict[str, Resource] = {
    "namespace": Netns("web"),
    "bridge": Bridge("br-front", "front"),
    "veth": Veth("web", "eth0", "veth1", "br-front", "web", "front", mac="02:42:0a:00:00:02"),
    "address": Address("web", "eth0", "10.0.0.2/24"),
    "route without gateway": Route("web", "10.1.0.0/16", "eth0"),
    "nft table (lines)": NftTable("inet", "netplan_t", ("input: type filter",), ("input: accept",)),
    "hosts file (lines not compared)": HostsFile("web", "10.0.0.2 web\n"),
    "hosts file not shared": HostsFile("db", "10.0.0.3 db\n", shared=False),
    "process": Process("web", "web", ("sleep", "1"), env=("A=1",), running=None),
}


def through_pickle(desired: dict[str, HostState]) -> dict[str, HostState]:
    return made(pickle.loads(pickle.dumps(kept(desired), pickle.HIGHEST_PROTOCOL)))


@pytest.mark.parametrize("resource", RESOURCES.values(), ids=RESOURCES.keys())
def test_made_gives_what_comparable_gives(resource: Resource) -> None:
    state = HostState()
    state.add(resource)
    [(key, got)] = through_pickle({"local": state})["local"].resources.items()
    [expected] = comparable({"local": state})["local"].resources.values()
    assert key == resource.key
    assert type(got) is type(expected) and vars(got) == vars(expected)
    assert hash(got) == hash(expected)


def test_the_order_of_resources_and_hosts_is_kept() -> None:
    desired = {host: HostState() for host in ("b", "a")}
    for resource in RESOURCES.values():
        desired["b"].add(resource)
    desired["a"].add(Netns("x"))
    got = through_pickle(desired)
    assert list(got) == ["b", "a"]
    assert list(got["b"].resources) == list(desired["b"].resources)
    assert got == comparable(desired)


def test_lines_stay_lines() -> None:
    state = HostState()
    state.add(RESOURCES["nft table (lines)"])
    [table] = through_pickle({"local": state})["local"].resources.values()
    assert isinstance(table, NftTable) and type(table.rules) is Lines


def test_a_class_that_is_not_a_resource_is_refused() -> None:
    with pytest.raises(ValueError, match="not a resource's class"):
        made({"local": (["x"], [dict], [()])})


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="as many keys"):
        made({"local": (["netns:a", "netns:b"], [Netns], [("a", True)])})
