"""MTUs on the real kernel: each end of a veth and the bridge are observed on their own,
so an MTU changed behind netplan's back is planned as an update and repaired in place."""

from __future__ import annotations

from dataclasses import replace

from netplan.agent.api import execute
from netplan.agent.resources import Bridge, Resource, Veth
from tests.kernel.kernel_helpers import container, create, link, network, plan, sh


def _mtus() -> tuple[int, int, int]:
    """The bridge's, the host end's and the container end's MTU, as `ip -j link` shows them."""
    return link("nbr0")["mtu"], link("nvc0")["mtu"], link("eth0", netns="c0")["mtu"]


def _repaired(topology: str, wanted: list[Resource], expected: set[tuple[str, tuple[str, ...]]],
              mtus: tuple[int, int, int]) -> None:
    """The plan is the `expected` updates (key, fields) and nothing else; once run, `ip`
    shows `mtus`, and a second plan is empty."""
    drifted = plan(topology, *wanted)
    assert {(s.op, s.resource.key, s.fields) for s in drifted.steps} == {
        ("update", key, fields) for key, fields in expected
    }
    execute(topology, drifted.steps)
    assert _mtus() == mtus
    assert plan(topology, *wanted).empty


def _at(mtu: int) -> list[Resource]:
    """A network at `mtu`: the bridge and both ends of its container's veth."""
    wanted: list[Resource] = []
    for resource in [*network(), *container("c0")]:
        if isinstance(resource, Bridge):
            resource = replace(resource, mtu=mtu)
        if isinstance(resource, Veth):
            resource = replace(resource, mtu=mtu, peer_mtu=mtu)
        wanted.append(resource)
    return wanted


def test_the_host_end_of_a_veth_is_observed_and_repaired(topology: str) -> None:
    wanted = _at(1400)
    create(topology, *wanted)
    assert _mtus() == (1400, 1400, 1400)
    sh("ip link set nvc0 mtu 1300")
    _repaired(topology, wanted, {("link:c0/eth0", ("peer_mtu",))}, (1400, 1400, 1400))


def test_the_container_end_alone_is_repaired_alone(topology: str) -> None:
    wanted = _at(1400)
    create(topology, *wanted)
    sh("ip -n c0 link set eth0 mtu 1300")
    _repaired(topology, wanted, {("link:c0/eth0", ("mtu",))}, (1400, 1400, 1400))


def test_a_bridge_at_the_default_mtu_is_observed_and_repaired(topology: str) -> None:
    wanted = _at(1500)
    create(topology, *wanted)
    sh("ip link set nbr0 mtu 1400")
    _repaired(topology, wanted, {("link:/nbr0", ("mtu",))}, (1500, 1500, 1500))


def test_a_bridge_made_without_an_mtu_of_its_own_converges_in_place(topology: str) -> None:
    """As an earlier netplan made it: no MTU asked for, so the kernel lets the bridge
    follow its lowest port. It is in sync as it is; a port set lower takes the bridge
    down with it, and both are updated in place (the bridge then keeps its MTU)."""
    wanted = _at(1500)
    bridge = wanted[0]
    assert isinstance(bridge, Bridge)
    create(topology, replace(bridge, mtu=None), *wanted[1:])
    assert plan(topology, *wanted).empty
    sh("ip link set nvc0 mtu 1300")
    assert _mtus() == (1300, 1300, 1500)
    _repaired(topology, wanted,
              {("link:/nbr0", ("mtu",)), ("link:c0/eth0", ("peer_mtu",))}, (1500, 1500, 1500))
    sh("ip link set nvc0 mtu 1300")
    assert _mtus() == (1500, 1300, 1500)
