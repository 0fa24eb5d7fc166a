"""Deleting: each kind alone, namespaces taking their veths along, and nothing else."""

from __future__ import annotations

import os

import pytest

from netplan.agent import netns as netns_module
from netplan.agent.api import execute
from netplan.agent.resources import Address, Bridge, Netns, Resource, Route, Veth
from netplan.agent.session import Session
from netplan.agent.state import Step
from tests.kernel.kernel_helpers import (
    addresses,
    container,
    create,
    delete,
    destroy,
    ip,
    keyed,
    link_names,
    netns_names,
    network,
    owned,
    run_json,
    sh,
)


def _of(kind: type[Resource], wanted: list[Resource]) -> Resource:
    return next(r for r in wanted if isinstance(r, kind))


def test_address_and_route(topology: str) -> None:
    wanted = [*network(), *container("c0")]
    create(topology, *wanted)
    route, address = _of(Route, wanted), _of(Address, wanted[2:])
    delete(topology, route, address)
    assert ip("route", "show", "default", netns="c0") == []
    assert addresses("eth0", netns="c0") == set()
    assert owned(topology) == keyed(*(r for r in wanted if r not in (route, address)))


def test_veth_goes_with_both_ends(topology: str) -> None:
    wanted = [*network(), *container("c0")]
    create(topology, *wanted)
    delete(topology, _of(Veth, wanted))
    assert "nvc0" not in link_names()
    assert link_names(netns="c0") == {"lo"}
    assert owned(topology) == keyed(*network(), Netns("c0"))


def test_namespace_takes_its_veth_along_at_once(topology: str) -> None:
    create(topology, *network(), *container("c0"), *container("c1", host=3))
    delete(topology, Netns("c0"), Netns("c1"))
    assert not {"c0", "c1"} & netns_names()
    assert not {"nvc0", "nvc1"} & link_names()  # gone when execute returns
    assert run_json("bridge", "-j", "link") == []
    assert owned(topology) == keyed(*network())


def test_a_container_can_be_replaced_in_one_apply(topology: str) -> None:
    """Delete then create with the same names: the old host end must be gone first."""
    first = container("c0", host=2)
    create(topology, *network(), *first)
    second = container("c0", host=7)
    execute(topology, [Step("delete", Netns("c0")), *(Step("create", r) for r in second)])
    assert owned(topology) == keyed(*network(), *second)


def test_deletes_run_while_deleted_namespaces_are_freed(topology: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A destroy waits for the kernel to free its namespaces once, at the end: the bridge
    goes meanwhile. Everything is gone when execute returns, and nothing is left to plan."""
    create(topology, *network(), *container("c0"), *container("c1", host=3))
    waits: list[set[str]] = []
    settle = netns_module.settle

    def counted(session: Session) -> None:
        waits.append(link_names())
        settle(session)

    monkeypatch.setattr(netns_module, "settle", counted)
    execute(topology, [Step("delete", Netns("c0")), Step("delete", Netns("c1")),
                       Step("delete", _of(Bridge, network()))])
    assert len(waits) == 1 and "nbr0" not in waits[0]  # one wait, after the bridge's delete
    assert not {"c0", "c1"} & netns_names()
    assert not {"nbr0", "nvc0", "nvc1"} & link_names()
    assert owned(topology) == {}


def test_a_namespace_held_open_still_loses_its_veth(topology: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A process (here: an open fd) keeps a deleted namespace alive, and its veth with it;
    the agent waits a moment for the kernel, then deletes the host end itself."""
    monkeypatch.setattr(netns_module, "SETTLE_SECONDS", 0.2)
    create(topology, *network(), *container("c0"))
    holder = os.open("/run/netns/c0", os.O_RDONLY)
    try:
        delete(topology, Netns("c0"))
        assert "c0" not in netns_names()
        assert "nvc0" not in link_names()
    finally:
        os.close(holder)


def test_veth_is_deleted_through_the_host_end_when_its_namespace_is_unreachable(
        topology: str) -> None:
    wanted = [*network(), *container("c0")]
    create(topology, *wanted)
    holder = os.open("/run/netns/c0", os.O_RDONLY)  # keeps the namespace, and its veth
    try:
        sh("ip netns del c0")
        delete(topology, _of(Veth, wanted))
        assert "nvc0" not in link_names()
    finally:
        os.close(holder)


def test_bridge_releases_its_ports(topology: str) -> None:
    wanted = [*network(), *container("c0")]
    create(topology, *wanted)
    delete(topology, _of(Bridge, wanted))
    assert "nbr0" not in link_names()
    veth = _of(Veth, wanted)
    assert isinstance(veth, Veth)
    observed = owned(topology)[veth.key]
    assert isinstance(observed, Veth) and observed.bridge == ""


def test_apply_then_destroy_leaves_the_host_as_it_was(topology: str) -> None:
    def host() -> list[object]:
        return [ip("link"), ip("addr"), ip("route", "show", "table", "all"), netns_names()]

    before = host()
    create(topology, *network(), *container("c0"), *container("c1", host=3))
    destroy(topology)
    assert host() == before
