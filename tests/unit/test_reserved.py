"""What Docker keeps out of its default pools, as the agent reads it (Facts.reserved):
resolv.conf's IPv4 nameservers and on-link routes through links the topology does not
own (moby's libnetwork/netutils/utils_linux.go, InferReservedNetworks); asked for only
when a network of the file gives no subnet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netplan.agent.api import handle
from netplan.agent.reserved import RouteSeen, nameservers, on_link, resolv_conf_text
from netplan.agent.route import RT_SCOPE_LINK, RT_SCOPE_UNIVERSE
from netplan.agent.state import PROTOCOL_VERSION, Facts
from netplan.compile import outline_of
from netplan.topology.model import Topology

HOST_SCOPE = 254


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("nameserver 172.18.0.10\n", ["172.18.0.10/32"], id="one"),
    pytest.param("# nameserver 10.0.0.1\n; x\nsearch lan\nnameserver 1.1.1.1\n"
                 "nameserver\t9.9.9.9 # quad9\n", ["1.1.1.1/32", "9.9.9.9/32"],
                 id="comments-and-tabs"),
    pytest.param("nameserver 2001:db8::53\nnameserver fe80::1%eth0\n", [], id="ipv6-left-out"),
    pytest.param("nameserver\nnameserver dns.example\nnameservers 1.2.3.4\n", [], id="malformed"),
    pytest.param("", [], id="empty"),
])  # fmt: skip
def test_nameservers(text: str, expected: list[str]) -> None:
    assert nameservers(text) == expected


@pytest.mark.parametrize(("etc", "resolved", "expected"), [
    pytest.param("nameserver 10.0.2.3\n", "nameserver 1.1.1.1\n", "nameserver 10.0.2.3\n",
                 id="etc"),
    pytest.param("nameserver 127.0.0.53\noptions edns0\n", "nameserver 10.0.2.3\n",
                 "nameserver 10.0.2.3\n", id="only-the-resolved-stub"),
    pytest.param("nameserver 127.0.0.53\nnameserver 10.0.2.3\n", "nameserver 1.1.1.1\n",
                 "nameserver 127.0.0.53\nnameserver 10.0.2.3\n", id="the-stub-and-another"),
    pytest.param("nameserver 127.0.0.53\n", None, "", id="resolved-file-missing"),
    pytest.param(None, "nameserver 10.0.2.3\n", "", id="etc-missing"),
])  # fmt: skip
def test_resolv_conf_text_follows_systemd_resolved_as_docker_does(
    tmp_path: Path, etc: str | None, resolved: str | None, expected: str
) -> None:
    """moby's resolvconf.Path: /etc/resolv.conf, unless its only nameserver is
    systemd-resolved's stub; then the file of the nameservers resolved forwards to."""
    paths = tmp_path / "etc", tmp_path / "resolved"
    for path, text in zip(paths, (etc, resolved), strict=True):
        if text is not None:
            path.write_text(text)
    assert resolv_conf_text(*map(str, paths)) == expected


@pytest.mark.parametrize(("routes", "expected"), [
    pytest.param([RouteSeen("172.17.0.0/16", RT_SCOPE_LINK, "tun0")], ["172.17.0.0/16"],
                 id="vpn-on-link"),
    pytest.param([RouteSeen("172.17.0.0/16", RT_SCOPE_UNIVERSE, "eth0")], [], id="via-gateway"),
    pytest.param([RouteSeen(None, RT_SCOPE_LINK, "tun0")], [], id="default-on-link"),
    pytest.param([RouteSeen("172.18.0.0/16", RT_SCOPE_LINK, "br-front")], [], id="our-bridge"),
    pytest.param([RouteSeen("172.19.0.0/16", RT_SCOPE_LINK, "br-other")], ["172.19.0.0/16"],
                 id="another-topologys-bridge"),
    pytest.param([RouteSeen("10.9.0.0/24", RT_SCOPE_LINK, None)], ["10.9.0.0/24"],
                 id="no-output-link"),
    pytest.param([RouteSeen("10.1.2.3/32", HOST_SCOPE, "eth0")], [], id="host-scope"),
])  # fmt: skip
def test_on_link(routes: list[RouteSeen], expected: list[str]) -> None:
    assert on_link(routes, {"br-front", "veth-web"}) == expected


@pytest.mark.parametrize("reserved", [None, (), ("172.17.0.0/16", "172.18.0.10/32")])
def test_facts_json(reserved: tuple[str, ...] | None) -> None:
    facts = Facts(reserved=reserved)
    assert Facts.from_json(facts.to_json()) == facts


def test_an_older_agent_leaves_them_out() -> None:
    assert Facts.from_json({}).reserved is None


@pytest.mark.parametrize(("networks", "asked"), [
    pytest.param({"front": {"subnet": "10.1.0.0/24", "host": "a"}}, set(), id="all-given"),
    pytest.param({"front": {"host": "a"}}, {"a"}, id="bridge-on-its-host"),
    pytest.param({"over": {"driver": "overlay"}}, {"a", "b"}, id="overlay-on-its-hosts"),
])  # fmt: skip
def test_asked_of_the_hosts_of_networks_without_subnet(networks: dict[str, Any],
                                                       asked: set[str]) -> None:
    topology = Topology.model_validate({
        "name": "t", "hosts": {"a": {}, "b": {}, "c": {}}, "networks": networks,
        "containers": {"web": {"host": "a", "networks": list(networks)},
                       "db": {"host": "b", "networks": list(networks)}}})
    outline = outline_of(topology)
    assert {h for h in ("a", "b", "c") if outline.facts_asked(h, None).get("reserved")} == asked


def test_not_with_the_root_namespace_left_out() -> None:
    answer = handle({"version": PROTOCOL_VERSION, "op": "observe", "topology": "t",
                     "root": False, "reserved": True})
    assert not answer["ok"]
    assert "'reserved'" in answer["error"]["message"]
