"""Published ports against the ports the host already gives to others (another
topology's published ports, processes listening): (desired, observed) → conflicts."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Any, NamedTuple

import pytest

from netplan.agent.api import handle
from netplan.agent.resources import Address
from netplan.agent.state import PROTOCOL_VERSION, Facts, HostState, PortInUse
from netplan.compile import outline_of
from netplan.firewall.ports import PortMapping
from netplan.firewall.rules import Published, Segment, render
from netplan.plan.order import plan_host
from netplan.plan.port_clashes import publishes
from netplan.topology.model import Topology

ANY = "0.0.0.0"


def publishing(*ports: str) -> HostState:
    """A topology whose container `web` publishes `ports`: its firewall tables, and the
    container's address they send the ports to."""
    state = HostState()
    segment = Segment("br-front", IPv4Network("10.10.0.0/24"))
    published = [Published(PortMapping.parse(p), IPv4Address("10.10.0.2"), "br-front")
                 for p in ports]  # fmt: skip
    for resource in [*render("mine", [segment], published), Address("web", "eth0", "10.10.0.2/24")]:
        state.add(resource)
    return state


class Case(NamedTuple):
    desired: list[str]
    """The ports the topology publishes."""
    taken: list[PortInUse]
    expected: list[str]
    published: tuple[str, ...] = ()
    """The ports the topology's table on the host publishes already."""


def other(address: str, port: int, protocol: str = "tcp") -> PortInUse:
    return PortInUse(protocol, port, address, "other")


def process(address: str, port: int, protocol: str = "tcp") -> PortInUse:
    return PortInUse(protocol, port, address)


BY_OTHER = "which netplan topology 'other' publishes"
BY_PROCESS = "which a process of the host listens on"

CASES = {
    "nothing else on the host": Case(["8080:80"], [], []),
    "the same port of another topology": Case(
        ["8080:80"], [other(ANY, 8080)],
        [f"published port 8080:80/tcp of container 'web' clashes with host port "
         f"0.0.0.0:8080/tcp, {BY_OTHER}"]),
    "one address against every address": Case(
        ["127.0.0.1:8080:80"], [other(ANY, 8080)],
        [f"published port 127.0.0.1:8080:80/tcp of container 'web' clashes with host port "
         f"0.0.0.0:8080/tcp, {BY_OTHER}"]),
    "every address against one address": Case(
        ["8080:80"], [other("127.0.0.1", 8080)],
        [f"published port 8080:80/tcp of container 'web' clashes with host port "
         f"127.0.0.1:8080/tcp, {BY_OTHER}"]),
    "two different addresses": Case(["127.0.0.1:8080:80"], [other("10.0.0.1", 8080)], []),
    "the same address": Case(
        ["10.0.0.1:8080:80"], [other("10.0.0.1", 8080)],
        [f"published port 10.0.0.1:8080:80/tcp of container 'web' clashes with host port "
         f"10.0.0.1:8080/tcp, {BY_OTHER}"]),
    "another protocol": Case(["8080:80/udp"], [other(ANY, 8080)], []),
    "another port": Case(["8081:80"], [other(ANY, 8080)], []),
    "a process listening on the port": Case(
        ["5353:53/udp"], [process("127.0.0.53", 5353, "udp")],
        [f"published port 5353:53/udp of container 'web' clashes with host port "
         f"127.0.0.53:5353/udp, {BY_PROCESS}"]),
    "one line per clash, in port order": Case(
        ["9000:90", "8080:80"], [other(ANY, 8080), process(ANY, 9000), process("127.0.0.1", 9000)],
        [f"published port 8080:80/tcp of container 'web' clashes with host port "
         f"0.0.0.0:8080/tcp, {BY_OTHER}",
         f"published port 9000:90/tcp of container 'web' clashes with host port "
         f"0.0.0.0:9000/tcp, {BY_PROCESS}",
         f"published port 9000:90/tcp of container 'web' clashes with host port "
         f"127.0.0.1:9000/tcp, {BY_PROCESS}"]),
    "published by this topology already: its own": Case(
        ["8080:80", "9000:90"], [other(ANY, 8080), process(ANY, 9000)], [],
        published=("8080:81", "9000:90")),
    "published already, on another address": Case(
        ["8080:80"], [other(ANY, 8080)],
        [f"published port 8080:80/tcp of container 'web' clashes with host port "
         f"0.0.0.0:8080/tcp, {BY_OTHER}"],
        published=("127.0.0.1:8080:80",)),
    "nothing published: destroying": Case([], [other(ANY, 8080)], [], published=("8080:80",)),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_published_port_the_host_gives_to_others_is_a_conflict(case: Case) -> None:
    desired = publishing(*case.desired)
    observed = publishing(*case.published)
    observed.facts = Facts(ports_in_use=tuple(sorted(case.taken)))
    plan = plan_host("local", desired, observed)
    assert [f"{c.what} {c.owner}" for c in plan.conflicts] == case.expected


@pytest.mark.parametrize(("taken", "hint"), [
    (other(ANY, 8080), "use another host port or host address, or take the port out of "
                       "topology 'other' first"),
    (process(ANY, 8080), "use another host port or host address, or stop the process that "
                         "`ss -lntp 'sport = :8080'` shows"),
    (process(ANY, 8080, "udp"), "`ss -lnup 'sport = :8080'`"),
])  # fmt: skip
def test_the_refusal_says_nothing_changed_and_what_to_do(taken: PortInUse, hint: str) -> None:
    observed = HostState(facts=Facts(ports_in_use=(taken,)))
    protocol = f"/{taken.protocol}"
    conflict, = plan_host("local", publishing(f"8080:80{protocol}"), observed).conflicts
    refusal = conflict.refusal()
    assert refusal.startswith(f"published port 8080:80{protocol} of container 'web' clashes")
    assert "; nothing was changed (hint: " in refusal and hint in refusal
    assert "\n" not in refusal


def test_ports_in_use_travel_in_the_observation() -> None:
    facts = Facts(ports_in_use=(process("127.0.0.1", 53, "udp"), other(ANY, 8080)))
    assert Facts.from_json(facts.to_json()) == facts
    assert Facts.from_json({}).ports_in_use == ()


@pytest.mark.parametrize(("containers", "asked"), [
    ({"web": {"networks": ["front"], "publish": ["8080:80"]}}, {"local": True, "far": False}),
    ({"web": {"networks": ["front"], "publish": ["8080:80"], "host": "far"}},
     {"local": False, "far": True}),
    ({"web": {"networks": ["front"]}}, {"local": False, "far": False}),
    ({"web": {"network_mode": "host", "publish": ["8080:80"]}}, {"local": False, "far": False}),
])  # fmt: skip
def test_a_host_is_asked_for_the_ports_others_take_when_it_publishes(
    containers: dict[str, Any], asked: dict[str, bool]
) -> None:
    """Reading them costs ~8 ms a host (/proc/net/tcp and tcp6): only where needed."""
    topology = Topology.model_validate({
        "name": "t", "hosts": {"local": {}, "far": {}},
        "networks": {"front": {"subnet": "10.10.0.0/24"}}, "containers": containers})
    outline = outline_of(topology)
    assert {host: outline.facts_asked(host, None).get("ports", False)
            for host in ("local", "far")} == asked  # fmt: skip


def test_a_saved_plan_asks_for_them_when_its_desired_state_publishes() -> None:
    assert publishes(publishing("8080:80"))
    assert not publishes(publishing())


@pytest.mark.parametrize(("extra", "message"), [
    ({"ports": "yes"}, "'ports' must be true or false"),
    ({"local_ips": 1}, "'local_ips' must be true or false"),
    ({"ports": True, "root": False}, "'ports', 'local_ips' and 'reserved' are read from"),
    ({"local_ips": True, "root": False}, "'ports', 'local_ips' and 'reserved' are read from"),
])
def test_the_ask_is_checked_by_the_agent(extra: dict[str, Any], message: str) -> None:
    answer = handle({"version": PROTOCOL_VERSION, "op": "observe", "topology": "t", **extra})
    assert not answer["ok"] and message in answer["error"]["message"]
