"""Published ports bound to a host IP against the host's addresses (Facts.local_ips and
the addresses the plan puts on the topology's bridges): (desired, observed) → conflicts."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from netplan.agent.resources import ROOT, Address
from netplan.agent.state import Facts, HostState
from netplan.compile import outline_of
from netplan.plan.order import plan_host
from netplan.plan.publish_ips import binds_host_ips
from netplan.topology.model import Topology
from tests.unit.test_port_clashes import publishing as web_publishing

LOOPBACK = "127.0.0.0/8"
LAN = "192.168.1.10/32"
GATEWAY = "10.10.0.1/24"
"""The gateway address of the topology's bridge, br-front."""


def publishing(*ports: str, gateway: str | None = GATEWAY) -> HostState:
    """Container `web` publishing `ports` from br-front (with `gateway` on it, if any)."""
    state = web_publishing(*ports)
    if gateway is not None:
        state.add(Address(ROOT, "br-front", gateway))
    return state


class Case(NamedTuple):
    desired: list[str]
    """The ports the topology publishes."""
    local_ips: tuple[str, ...] | None
    """What the host's observation reports (None: not asked)."""
    refused: list[str]
    """The IPs of the ports refused, in order."""
    published: tuple[str, ...] = ()
    """The ports the topology's table on the host publishes already."""
    gateway: str | None = GATEWAY
    """The bridge's gateway address on the host now (None: no bridge yet)."""
    desired_gateway: str = GATEWAY


CASES = {
    "an address of the host": Case(["192.168.1.10:8080:80"], (LOOPBACK, LAN), []),
    "an address the host does not have": Case(
        ["192.0.2.99:9090:80"], (LOOPBACK, LAN), ["192.0.2.99"]),
    "every address: never checked": Case(["8080:80", "0.0.0.0:8081:80"], (), []),
    "loopback, its whole subnet": Case(
        ["127.0.0.1:8080:80", "127.0.0.53:8081:80"], (LOOPBACK,), []),
    "loopback down: no address": Case(["127.0.0.1:8080:80"], (LAN,), ["127.0.0.1"]),
    "a /32 is that address only": Case(["192.168.1.11:8080:80"], (LAN,), ["192.168.1.11"]),
    "the gateway of a bridge the plan makes": Case(
        ["10.10.0.1:8080:80"], (LOOPBACK,), [], gateway=None),
    "the gateway the bridge has": Case(["10.10.0.1:8080:80"], (LOOPBACK, "10.10.0.1/32"), []),
    "a gateway the plan takes off the bridge": Case(
        ["10.10.0.1:8080:80"], (LOOPBACK, "10.10.0.1/32"), ["10.10.0.1"],
        desired_gateway="10.10.0.254/24"),
    "an address of the bridge's subnet is not the host's": Case(
        ["10.10.0.7:8080:80"], (LOOPBACK,), ["10.10.0.7"]),
    "published already: its own": Case(
        ["192.0.2.99:9090:80"], (LOOPBACK,), [], published=("192.0.2.99:9090:80",)),
    "published already on another address": Case(
        ["192.0.2.99:9090:80"], (LOOPBACK,), ["192.0.2.99"], published=("9090:80",)),
    "one conflict per port, in port order": Case(
        ["192.0.2.99:9091:80", "192.168.1.10:8080:80", "198.51.100.1:9090:80/udp"],
        (LOOPBACK, LAN), ["198.51.100.1", "192.0.2.99"]),
    "the host's addresses not asked": Case(["192.0.2.99:9090:80"], None, []),
    "nothing published: destroying": Case([], (), [], published=("192.0.2.99:9090:80",)),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_port_published_on_an_ip_the_host_does_not_have_is_a_conflict(case: Case) -> None:
    desired = publishing(*case.desired, gateway=case.desired_gateway)
    observed = publishing(*case.published, gateway=case.gateway)
    observed.facts = Facts(local_ips=case.local_ips)
    conflicts = plan_host("lab1", desired, observed).conflicts
    assert [c.owner for c in conflicts] == [
        f"is bound to {ip}, which is not an address of host lab1" for ip in case.refused]


def test_the_refusal_names_container_port_ip_and_host_in_one_line() -> None:
    observed = publishing()
    observed.facts = Facts(local_ips=(LOOPBACK,))
    conflict, = plan_host("lab1", publishing("192.0.2.99:9090:80"), observed).conflicts
    assert conflict.refusal() == (
        "published port 192.0.2.99:9090:80/tcp of container 'web' is bound to 192.0.2.99, "
        "which is not an address of host lab1; nothing was changed (hint: use an address "
        "of host lab1 (`ip -br addr` lists them), or leave the IP out to publish on all of "
        "them)")


def test_the_host_addresses_travel_in_the_observation() -> None:
    for facts in (Facts(local_ips=(LOOPBACK, LAN)), Facts(local_ips=()), Facts()):
        assert Facts.from_json(facts.to_json()) == facts
    assert Facts.from_json({}).local_ips is None  # an agent that was not asked, or older


@pytest.mark.parametrize(("publish", "asked"), [
    (["192.0.2.1:8080:80"], {"local": True, "far": False}),
    (["8080:80", "127.0.0.1:8081:80"], {"local": True, "far": False}),
    (["8080:80", "0.0.0.0:8081:80"], {"local": False, "far": False}),
    ([], {"local": False, "far": False}),
])  # fmt: skip
def test_a_host_is_asked_for_its_addresses_when_a_port_is_bound_to_an_ip(
    publish: list[str], asked: dict[str, bool]
) -> None:
    topology = Topology.model_validate({
        "name": "t", "hosts": {"local": {}, "far": {}},
        "networks": {"front": {"subnet": "10.10.0.0/24"}},
        "containers": {"web": {"networks": ["front"], "publish": publish}}})
    outline = outline_of(topology)
    assert {host: outline.facts_asked(host, None).get("local_ips", False)
            for host in ("local", "far")} == asked  # fmt: skip


@pytest.mark.parametrize(("publish", "binds"), [
    (("192.0.2.1:8080:80",), True), (("8080:80",), False), ((), False)])
def test_a_saved_plan_asks_for_them_when_its_desired_state_binds_an_ip(
    publish: tuple[str, ...], binds: Any
) -> None:
    assert binds_host_ips(publishing(*publish)) is binds
